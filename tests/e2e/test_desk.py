"""The agents' desk in a real browser (issue 15, item 8): an agent opens the most urgent conversation
from the queue, inserts a canned reply filled in for it, sends it and transfers the conversation to
tech; the buyer sees both. The workspace is two columns on a desk screen and one on a phone."""

import pytest
from playwright.sync_api import expect

from kameng.accounts.models import Role
from kameng.catalog.models import GoodsKind
from kameng.orders.services import place_order
from kameng.support import services
from kameng.support.models import CannedReply, Conversation
from tests import factories as f

from .test_key_import import fits, log_in, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def waiting_about(order, *, urgent=False) -> Conversation:
    conversation = services.conversation_for(buyer=order.buyer, order=order)
    services.post_message(conversation_id=conversation.pk, author=order.buyer, body="卡密显示无效，转人工")
    if urgent:
        Conversation.objects.filter(pk=conversation.pk).update(urgent=True)
    conversation.refresh_from_db()
    return conversation


@pytest.mark.parametrize("width", [390, 1280])
def test_queue_open_canned_reply_send_transfer(live_server, browser, width):
    agent = f.staff(Role.AGENT, agent_no="8001")
    # A transactional test starts from empty tables: the migration's default replies are gone.
    CannedReply.objects.get_or_create(
        title="问候",
        defaults={"text": "您好，我是客服 {工号}，很高兴为您服务。请问订单 {订单号} 遇到了什么问题？"},
    )
    order = place_order(buyer=f.buyer("小王", balance=30_00), product=f.product(price=30_00, keys=1))
    conv = waiting_about(order, urgent=True)
    waiting_about(place_order(buyer=f.buyer(balance=10_00), product=f.product(price=10_00, keys=1)))
    page = log_in(browser, live_server, agent, width=width)

    page.goto(f"{live_server.url}/support/staff/")
    first = page.locator(".desk-item").first
    expect(first).to_contain_text("紧急")
    expect(first).to_contain_text(order.no)
    assert fits(page)
    shot(page, "desk-queue")
    first.locator("a").first.click()

    expect(page.locator("h1")).to_contain_text(f"会话 #{conv.pk}")
    expect(page.locator("#order-facts")).to_contain_text("¥30.00")
    expect(page.locator("#order-facts")).not_to_contain_text("KEY-")
    chat, facts = page.locator(".chat").bounding_box(), page.locator("#order-facts").bounding_box()
    if width == 1280:
        assert facts["x"] > chat["x"] + chat["width"] - 1  # side by side
    else:
        assert facts["y"] > chat["y"] and fits(page)  # stacked, nothing wider than the phone
    page.select_option("#canned", label="问候")
    page.click("#canned-picker button")
    text = f"您好，我是客服 8001，很高兴为您服务。请问订单 {order.no} 遇到了什么问题？"
    expect(page.locator("#chat-body")).to_have_value(text)
    shot(page, "desk-workspace")
    page.click("button[name=action][value=reply]")
    expect(page.locator("#transcript")).to_contain_text(text)

    page.select_option("#department", "tech")
    page.fill("#transfer-reason", "卡密批次需技术核实")
    page.click("#transfer button[name=action][value=transfer]")
    expect(page.locator("#transferred")).to_contain_text("技术核实")
    expect(page.locator("#transcript")).to_contain_text("已转交技术核实：卡密批次需技术核实")

    buyer_page = log_in(browser, live_server, order.buyer, width=width)
    buyer_page.goto(f"{live_server.url}/support/c/{conv.pk}/")
    expect(buyer_page.locator("#transcript")).to_contain_text(text)
    expect(buyer_page.locator("#transferred")).to_contain_text("已转交技术核实：卡密批次需技术核实")


def test_a_filter_redraws_the_list_in_place(live_server, browser):
    agent = f.staff(Role.AGENT)
    card = waiting_about(place_order(buyer=f.buyer(balance=10_00), product=f.product(price=10_00, keys=1)))
    activation = waiting_about(
        place_order(
            buyer=f.buyer(balance=10_00),
            product=f.product(kind=GoodsKind.ACTIVATION, price=10_00),
            target_account="user@example.com",
        )
    )
    page = log_in(browser, live_server, agent)
    violations = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda e: violations.append(f"page error: {e}"))
    page.goto(f"{live_server.url}/support/staff/")
    page.evaluate("window.notReloaded = true")

    page.select_option("select[name=goods_kind]", "activation")

    expect(page.locator("#desk-items")).not_to_contain_text(f"会话 #{card.pk}")
    expect(page.locator("#desk-items")).to_contain_text(f"会话 #{activation.pk}")
    assert page.evaluate("window.notReloaded") is True  # htmx swapped the list, the page stayed
    assert "goods_kind=activation" in page.url
    assert violations == []  # htmx runs under the site's Content-Security-Policy
