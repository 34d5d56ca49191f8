"""Refund journeys in a real browser: each person logs in through the login page in their own context."""

import re

import pytest
from PIL import Image
from playwright.sync_api import expect

from kameng.accounts.models import Role
from tests import factories as f
from tests.refunds.test_pages import custom_service_order, undelivered_card_order

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(browser, live_server, user):
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", f.PASSWORD)
    page.click("main button[type=submit]")
    expect(page.locator("header.top")).to_contain_text("退出")
    return page


def evidence_files(tmp_path):
    """Small real files: a PNG screenshot and a PDF report (made by Pillow, so their bytes are genuine)."""
    png, pdf = tmp_path / "promise.png", tmp_path / "report.pdf"
    Image.new("RGB", (60, 30), "white").save(png, "PNG")
    Image.new("RGB", (60, 30), "white").save(pdf, "PDF")
    return str(png), str(pdf)


def expect_holder_and_deadline(page, holder: str):
    expect(page.locator("#holder")).to_contain_text(holder)
    expect(page.locator("#deadline")).to_be_visible()
    expect(page.locator("#deadline")).to_contain_text(re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}"))
    expect(page.locator("#countdown")).to_have_text(re.compile(r"\d+(天|时|分)"))


def test_undelivered_card_key_is_refunded_on_the_page_the_buyer_is_looking_at(browser, live_server):
    buyer = f.buyer()
    order = undelivered_card_order(buyer, price=20_00)
    page = log_in(browser, live_server, buyer)

    page.goto(f"{live_server.url}/orders/{order.no}/")
    page.click("#request-refund")
    page.wait_for_load_state()  # its scripts (the reason select submits itself) ready
    page.select_option("#id_reason", "not_received")
    page.wait_for_url(re.compile(r"reason=not_received"))
    expect(page.locator("#no-evidence")).to_be_visible()  # nothing to upload: the system checks itself
    page.click("#submit-refund")

    expect(page.locator("#refunded-amount")).to_have_text("已退款 ¥20.00")
    expect(page.locator("#decision-clause")).to_contain_text("第3条")
    expect(page.locator("#steps li.done").last).to_have_text("已退款")
    page.context.close()


def test_custom_service_dispute_through_seller_agent_and_material(browser, live_server, tmp_path):
    buyer = f.buyer()
    order = custom_service_order(buyer, price=100_00)
    agent = f.staff(Role.AGENT, agent_no="A007")
    promise_png, report_pdf = evidence_files(tmp_path)

    # The buyer asks for a refund with both pieces of evidence.
    b = log_in(browser, live_server, buyer)
    b.goto(f"{live_server.url}/orders/{order.no}/")
    b.click("#request-refund")
    b.wait_for_load_state()  # its scripts (the reason select submits itself) ready
    b.select_option("#id_reason", "not_as_described")
    b.wait_for_url(re.compile(r"reason=not_as_described"))
    expect(b.locator("#checklist")).to_contain_text("卖家的承诺")
    expect(b.locator("#checklist")).to_contain_text("未达标的证明")
    expect(b.locator("#id_statement")).to_have_value(re.compile("我做了什么"))
    b.set_input_files("#ev-seller_promise", promise_png)
    b.set_input_files("#ev-shortfall_proof", report_pdf)
    b.fill("#id_description", "查重率 32%，承诺低于 15%")
    b.click("#submit-refund")
    expect(b.locator("#stage-badge")).to_have_text("等待卖家处理")
    expect_holder_and_deadline(b, order.seller.name)
    expect(b.locator("#if-no-action")).to_contain_text("自动同意退款")
    case_url = b.url

    # The seller refuses, with evidence.
    s = log_in(browser, live_server, order.seller.owner)
    s.goto(f"{live_server.url}/refunds/seller/")
    s.click("#seller-cases a")
    expect(s.locator("#statement")).to_contain_text("我做了什么")
    s.click("#refuse summary")
    s.fill("#refuse-note", "交付时查重率为 12%，见截图")
    s.set_input_files("#refuse-files", promise_png)
    s.click("#seller-refuse")
    expect(s.locator(".msg.success")).to_contain_text("转平台审核")

    b.goto(case_url)
    expect(b.locator("#stage-badge")).to_have_text("平台审核中")
    expect_holder_and_deadline(b, "平台客服")
    expect(b.locator("#timeline")).to_contain_text("卖家拒绝退款")

    # The agent claims it and asks for more material.
    a = log_in(browser, live_server, agent)
    a.goto(f"{live_server.url}/refunds/staff/")
    a.click("#queue a")
    a.click("#claim")
    expect(a.locator("#holder")).to_contain_text("客服 A007")
    a.click("#request-info summary")
    a.fill("#info-note", "请上传查重报告的完整首页")
    a.click("#request-info-submit")
    expect(a.locator("#stage-badge")).to_have_text("待补充材料")

    b.goto(case_url)
    expect(b.locator("#stage-badge")).to_have_text("待补充材料")
    expect_holder_and_deadline(b, "您（买家）")
    expect(b.locator("#stage-reason")).to_contain_text("请上传查重报告的完整首页")
    expect(b.locator("#steps li.current")).to_have_text("平台审核 › 等待补充材料")
    b.screenshot(path=tmp_path / "refund_progress.png", full_page=True)
    b.fill("#material-note", "已补充首页")
    b.set_input_files("#material-files", report_pdf)
    b.click("#material-submit")
    expect(b.locator("#stage-badge")).to_have_text("平台审核中")
    expect_holder_and_deadline(b, "客服 A007")  # back to the agent who asked for it

    # The agent approves part of it.
    a.reload()
    a.check("#decide input[value=partial]")
    a.fill("#decide-amount", "30")
    a.select_option("#decide-clause", "5")
    a.fill("#decide-note", "部分章节达标，按进度退 30 元")
    a.click("#decide-submit")
    expect(a.locator("#confirm-amount")).to_have_text("¥30.00")
    expect(a.locator("#confirm-destination")).to_contain_text("平台余额")
    a.click("#confirm-pay")
    expect(a.locator("#stage-badge")).to_have_text("已退款")

    b.goto(case_url)
    expect(b.locator("#refunded-amount")).to_have_text("已退款 ¥30.00")
    expect(b.locator("#decision-clause")).to_contain_text("第5条")
    expect(b.locator("#timeline")).to_contain_text("客服 A007")
    b.screenshot(path=tmp_path / "refund_done.png", full_page=True)
    for p in (a, s, b):
        p.context.close()
