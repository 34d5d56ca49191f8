"""The demo shop, walked by a person: zhangsan takes his orders through 申请退款 in a real browser.

Objective claims refund on the page he submits from and his wallet grows by exactly those sums;
the custom-service dispute goes buyer → seller refuses → agent decides, and at every stage his
page names who holds the case and until when.
"""

import re
from decimal import Decimal

import pytest
from PIL import Image
from playwright.sync_api import expect

from kameng.ops.demo import PASSWORD
from kameng.orders.models import Order

from .test_refund_journeys import expect_holder_and_deadline

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(browser, live_server, username):
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    expect(page.locator("header.top")).to_contain_text("退出")
    return page


def wallet_balance(page, live_server) -> Decimal:
    page.goto(f"{live_server.url}/wallet/")
    return Decimal(page.locator("#balance").inner_text().replace("¥", "").replace(",", ""))


def yuan(cents: int) -> str:
    return f"¥{cents // 100}.{cents % 100:02d}"


def zhangsan_orders():
    """The demo's orders by what happened to them (the demo builds them through the real services)."""
    mine = Order.objects.filter(buyer__username="zhangsan").select_related("product")

    def one(name, **extra):
        return next(o for o in mine if o.product.name == name and all(f(o) for f in extra.values()))

    def paid_times(o):
        return o.payments.filter(status="succeeded").count()

    return {
        "undelivered_key": one("王者荣耀点券 60元"),
        "paid_twice": one("京东E卡 50元", twice=lambda o: paid_times(o) == 2),
        "never_revealed_key": one("京东E卡 50元", once=lambda o: paid_times(o) == 1),
        "failed_topup": one("原神 创世结晶 6480 直充"),
        "membership_not_activated": one("视频会员 年卡"),
        "disputed_service": one("论文降重服务"),
    }


def test_demo_orders_refund_at_once_and_the_dispute_names_its_holder(browser, live_server, tmp_path):
    from kameng.ops.demo import load_demo

    load_demo()
    orders = zhangsan_orders()
    buyer = log_in(browser, live_server, "zhangsan")
    before = wallet_balance(buyer, live_server)

    # Objective claims: the reason a real buyer picks, nothing to upload, 已退款 on the next page.
    objective = [
        ("undelivered_key", "not_received", "第3条", orders["undelivered_key"].amount),
        ("paid_twice", "duplicate_payment", "第2条", orders["paid_twice"].amount),  # the extra one
        ("membership_not_activated", "not_received", "第3条", orders["membership_not_activated"].amount),
        ("never_revealed_key", "other", "第4条", orders["never_revealed_key"].amount),  # change of mind
    ]
    refunded = 0
    for name, reason, clause, amount in objective:
        order = orders[name]
        buyer.goto(f"{live_server.url}/orders/{order.no}/")
        buyer.click("#request-refund")
        buyer.wait_for_load_state()  # its scripts (the reason select submits itself) ready
        buyer.select_option("#id_reason", reason)
        buyer.wait_for_url(re.compile(f"reason={reason}"))
        expect(buyer.locator("#no-evidence")).to_be_visible()
        buyer.click("#submit-refund")
        expect(buyer.locator("#refunded-amount")).to_have_text(f"已退款 {yuan(amount)}")
        expect(buyer.locator("#decision-clause")).to_contain_text(clause)
        expect(buyer.locator("#steps li").last).to_have_text("已退款")
        refunded += amount
    assert wallet_balance(buyer, live_server) - before == Decimal(refunded) / 100

    # The failed top-up was refunded by the system when the supplier said so: nothing to file.
    buyer.goto(f"{live_server.url}/orders/{orders['failed_topup'].no}/")
    expect(buyer.locator("#order-status")).to_have_text("已退款")
    expect(buyer.locator("#refund-unavailable")).to_be_visible()
    expect(buyer.locator("#order-cases a")).to_have_count(1)

    # The refunded extra payment is marked on the order, which no longer offers it back.
    buyer.goto(f"{live_server.url}/orders/{orders['paid_twice'].no}/")
    expect(buyer.locator("#order-facts")).to_contain_text(f"已退回 {yuan(orders['paid_twice'].amount)}")
    expect(buyer.locator("#duplicate-warning")).to_have_count(0)

    # The disputed custom service: both pieces of evidence, then the seller holds it.
    promise, report = tmp_path / "promise.png", tmp_path / "report.pdf"
    Image.new("RGB", (60, 30), "white").save(promise, "PNG")
    Image.new("RGB", (60, 30), "white").save(report, "PDF")
    work = orders["disputed_service"]
    buyer.goto(f"{live_server.url}/orders/{work.no}/")
    buyer.click("#request-refund")
    buyer.wait_for_load_state()  # its scripts (the reason select submits itself) ready
    buyer.select_option("#id_reason", "not_as_described")
    buyer.wait_for_url(re.compile("reason=not_as_described"))
    buyer.set_input_files("#ev-seller_promise", str(promise))
    buyer.set_input_files("#ev-shortfall_proof", str(report))
    buyer.fill("#id_description", "查重报告 32%，承诺低于 15%")
    buyer.click("#submit-refund")
    expect(buyer.locator("#stage-badge")).to_have_text("等待卖家处理")
    expect_holder_and_deadline(buyer, "学霸工作室")
    expect(buyer.locator("#if-no-action")).to_contain_text("自动同意退款")
    case_url = buyer.url

    seller = log_in(browser, live_server, "seller_study")
    seller.goto(case_url.replace("/refunds/", "/refunds/seller/"))
    seller.click("#refuse summary")
    seller.fill("#refuse-note", "交付时查重率 12%，见报告")
    seller.set_input_files("#refuse-files", str(report))
    seller.click("#seller-refuse")
    expect(seller.locator(".msg.success")).to_contain_text("转平台审核")

    buyer.goto(case_url)
    expect(buyer.locator("#stage-badge")).to_have_text("平台审核中")
    expect_holder_and_deadline(buyer, "平台客服")
    expect(buyer.locator("#if-no-action")).to_contain_text("客服主管")

    agent = log_in(browser, live_server, "agent1")
    agent.goto(case_url.replace("/refunds/", "/refunds/staff/"))
    agent.click("#claim")
    expect(agent.locator("#holder")).to_contain_text("客服 1001")

    buyer.goto(case_url)
    expect_holder_and_deadline(buyer, "客服 1001")

    agent.check("#decide input[value=approve]")
    agent.select_option("#decide-clause", "5")
    agent.fill("#decide-note", "报告为交付当天所测 32%，未达承诺")
    agent.click("#decide-submit")
    # Nothing is paid before the agent has seen the amount and where it goes.
    expect(agent.locator("#confirm-amount")).to_be_visible()
    agent.click("#confirm-pay")
    expect(agent.locator("#stage-badge")).to_have_text("已退款")

    buyer.goto(case_url)
    expect(buyer.locator("#refunded-amount")).to_have_text(f"已退款 {yuan(work.amount)}")
    expect(buyer.locator("#decision-clause")).to_contain_text("第5条")
    expect(buyer.locator("#timeline")).to_contain_text("卖家拒绝退款")
    expect(buyer.locator("#timeline")).to_contain_text("客服 1001")
    assert wallet_balance(buyer, live_server) - before == Decimal(refunded + work.amount) / 100
    for page in (buyer, seller, agent):
        page.context.close()
