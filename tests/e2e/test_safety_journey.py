"""Safety and evidence in the browser (issue 16, Tests): a seller's answer asking for a deposit and a
private WeChat is held and the buyer sees the warning; the buyer checks a phone number on 验证客服;
downloads the evidence bundle, which verifies offline; a missed platform deadline shows a complaint
on the timeline."""

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from kameng.refunds.services import fire_timer
from tests import factories as f
from tests.refunds.helpers import delivered_custom_order, open_deadline
from tests.refunds.test_flows import dispute

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
VERIFIER = Path(__file__).resolve().parents[2] / "tools" / "verify_bundle.py"


def logged_in(browser, live_server, user, width=390):
    context = browser.new_context(
        locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": width, "height": 844}
    )
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", f.PASSWORD)
    page.click("main button[type=submit]")
    return context, page


def test_a_scam_answer_is_held_the_buyer_verifies_and_keeps_the_evidence(browser, live_server, tmp_path):
    buyer = f.buyer("张三", balance=200_00)
    seller = f.seller("可疑小店")
    order = delivered_custom_order(buyer, price=90_00, seller=seller)
    case = dispute(buyer, order)

    # The seller answers with a scam.
    context, page = logged_in(browser, live_server, seller.owner, width=1280)
    page.goto(f"{live_server.url}/refunds/seller/{case.pk}/")
    page.click("#refuse summary")
    page.fill("#refuse-note", "亲，退款要先交保证金100元，加我薇信 vx8899 马上处理")
    page.set_input_files(
        "#refuse-files", files=[{"name": "proof.png", "mimeType": "image/png", "buffer": f.image_bytes()}]
    )
    page.click("#seller-refuse")
    page.wait_for_url(f"**/refunds/seller/{case.pk}/**")
    context.close()

    # The buyer sees the warning, not the scam.
    context, page = logged_in(browser, live_server, buyer)
    page.goto(f"{live_server.url}/refunds/{case.pk}/")
    expect(page.locator("main")).to_contain_text("已被拦截，等待平台审核")
    expect(page.locator("main")).not_to_contain_text("vx8899")

    # A number someone gave them: is it the platform's?
    page.goto(f"{live_server.url}/verify/")
    page.fill("#verify-value", "+86 400-820-6166")
    page.click(".verify-form button")
    expect(page.locator("#verify-result")).to_contain_text("官方客服热线")
    page.fill("#verify-value", "4008206167")
    page.click(".verify-form button")
    expect(page.locator("#verify-result .badge")).to_have_text("不是官方")

    # The evidence bundle, downloaded and verified offline.
    page.goto(f"{live_server.url}/refunds/{case.pk}/")
    with page.expect_download() as download:
        page.click("#evidence-bundle")
    saved = tmp_path / "bundle.zip"
    download.value.save_as(saved)
    run = subprocess.run(
        [sys.executable, str(VERIFIER), str(saved)], capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0 and run.stdout.startswith("OK: case"), run.stdout
    context.close()

    # The platform misses its own deadline: a complaint appears on the timeline by itself.
    review = open_deadline(case)
    assert fire_timer(timer_id=review.pk, now=review.due_at + timedelta(seconds=1)) == "escalated"
    context, page = logged_in(browser, live_server, buyer)
    page.goto(f"{live_server.url}/refunds/{case.pk}/")
    expect(page.locator("main")).to_contain_text("系统自动登记投诉")
    context.close()
