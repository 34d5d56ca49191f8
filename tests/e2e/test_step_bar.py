"""The step bar on a phone (issue 14, item 9): every step, the lit one with its sub-step label,
fits a 390 px screen without pushing the page sideways."""

import pytest
from playwright.sync_api import expect

from kameng.refunds.services import request_info
from tests import factories as f
from tests.refunds.helpers import agent
from tests.refunds.test_flows import in_review

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_step_bar_fits_a_390px_screen(browser, live_server):
    _buyer, _seller, _order, case = in_review(price=100_00)
    request_info(case_id=case.pk, agent=agent(), note="请上传完整的查重报告首页")
    context = browser.new_context(
        locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 390, "height": 844}
    )
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", case.buyer.username)
    page.fill("#id_password", f.PASSWORD)
    page.click("main button[type=submit]")
    page.goto(f"{live_server.url}/refunds/{case.pk}/")

    lit = page.locator("#steps li[aria-current=step]")
    expect(lit).to_have_text("平台审核 › 等待补充材料")
    expect(page.locator("#stage-badge")).to_have_text("待补充材料")
    expect(page.locator("#holder")).to_contain_text("您（买家）")
    expect(page.locator("#countdown")).to_be_visible()
    width = page.evaluate("document.documentElement.clientWidth")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    bar = page.locator("#steps").bounding_box()
    assert bar["x"] >= 0 and bar["x"] + bar["width"] <= width
    for i in range(page.locator("#steps li").count()):
        box = page.locator("#steps li").nth(i).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, f"step {i} overflows: {box}"
    context.close()
