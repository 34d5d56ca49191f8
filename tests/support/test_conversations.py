"""A buyer reaches customer service about an order: one conversation, answered from the facts first,
a person one tap away, an agent who claims it and replies (issue 15, items 1, 3, 4 in part)."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from kameng.accounts.models import Role
from kameng.orders.services import place_order
from kameng.support import services, wait
from kameng.support.models import Answer, Conversation, ConversationState, Message, Promotion
from tests import factories as f
from tests.refunds.helpers import delivered_custom_order, evidence_for

pytestmark = pytest.mark.django_db


def open_from_order(client, buyer, order) -> Conversation:
    client.force_login(buyer)
    response = client.get(f"/support/order/{order.no}/")
    assert response.status_code == 302
    return Conversation.objects.get(pk=int(re.search(r"/support/c/(\d+)/", response["Location"]).group(1)))


def say(client, conversation, text, client_id="") -> None:
    response = client.post(f"/support/c/{conversation.pk}/", {"body": text, "client_id": client_id})
    assert response.status_code == 302, response.content.decode()


def page(client, conversation) -> str:
    return client.get(f"/support/c/{conversation.pk}/").content.decode()


def a_case_in_review(buyer):
    from kameng.refunds.services import submit_refund

    shop = f.seller()
    order = delivered_custom_order(buyer, price=100_00, seller=shop)
    case = submit_refund(
        order=order,
        actor=buyer,
        reason="not_as_described",
        demand="full_refund",
        description="查重率 32%",
        evidence=evidence_for("not_as_described", "custom_service"),
    )
    return order, case, shop


def test_contacting_support_from_an_order_opens_one_conversation_about_that_order(client):
    buyer = f.buyer(balance=50_00)
    order = place_order(buyer=buyer, product=f.product(price=10_00, keys=1))

    first = open_from_order(client, buyer, order)
    again = open_from_order(client, buyer, order)

    assert first == again and first.order == order and first.buyer == buyer
    shown = page(client, first)
    assert order.no in shown
    assert "support@kameng.local" in shown and "400-820-6166" in shown  # the ways around the wait
    stranger = f.buyer()
    client.force_login(stranger)
    assert client.get(f"/support/order/{order.no}/").status_code == 404
    assert client.get(f"/support/c/{first.pk}/").status_code == 404
    assert client.get(f"/support/c/{first.pk}/messages/").status_code == 404


def test_where_is_my_refund_is_answered_from_the_case_itself(client):
    buyer = f.buyer(balance=200_00)
    order, case, shop = a_case_in_review(buyer)
    conversation = open_from_order(client, buyer, order)

    say(client, conversation, "我的退款到哪了？")

    reply = Message.objects.filter(conversation=conversation, author_kind="system").last()
    assert f"#{case.pk}" in reply.text and "等待卖家处理" in reply.text
    assert shop.name in reply.text  # who holds it
    assert timezone.localtime(case.deadline_at).strftime("%Y-%m-%d %H:%M") in reply.text  # until when
    assert "自动同意退款" in reply.text  # what happens by itself
    assert reply.link == f"/refunds/{case.pk}/"
    assert conversation.messages.count() == 2  # the question and the answer; nobody queued
    conversation.refresh_from_db()
    assert conversation.state == ConversationState.SELF_SERVICE


def test_not_received_is_offered_the_refund_form_with_the_order_filled_in(client):
    buyer = f.buyer(balance=50_00)
    order = place_order(buyer=buyer, product=f.product(price=10_00, keys=1))
    conversation = open_from_order(client, buyer, order)

    say(client, conversation, "付款了但是卡密没收到")

    reply = conversation.messages.last()
    assert reply.link == f"/refunds/new/{order.no}/" and order.no in reply.text


def test_help_centre_answers_a_question_asked_in_other_words(client):
    Answer.objects.create(
        question="充值多久到账？", answer="余额充值一般即时到账。", keywords="余额 充值 到账 时间"
    )
    Answer.objects.create(question="如何修改登录密码？", answer="在个人中心修改密码。", keywords="密码 修改")
    buyer = f.buyer()
    client.force_login(buyer)
    conversation = services.conversation_for(buyer=buyer)

    say(client, conversation, "我充值的钱什么时候能到")

    assert "余额充值一般即时到账" in conversation.messages.last().text
    say(client, conversation, "今天天气不错")
    assert "转人工" in conversation.messages.last().text  # no answer: the person is offered, nothing invented


def test_a_retried_message_is_stored_once(client):
    buyer = f.buyer()
    client.force_login(buyer)
    conversation = services.conversation_for(buyer=buyer)

    say(client, conversation, "你好", client_id="abc-1")
    say(client, conversation, "你好", client_id="abc-1")

    assert conversation.messages.filter(author_kind="buyer").count() == 1


def test_a_person_is_one_tap_away_and_the_line_shows_place_and_wait(client):
    agent = f.staff(Role.AGENT)
    services.set_presence(agent=agent)
    first, second = f.buyer(), f.buyer()
    c1 = services.conversation_for(buyer=first)
    c2 = services.conversation_for(buyer=second)
    services.ask_for_person(conversation_id=c1.pk, buyer=first)

    client.force_login(second)
    response = client.post(f"/support/c/{c2.pk}/", {"action": "person"})

    assert response.status_code == 302
    c2.refresh_from_db()
    assert c2.state == ConversationState.QUEUED
    notice = c2.messages.last().text
    assert "第 2 位" in notice and f"约 {2 * int(wait.DEFAULT_HANDLE_MINUTES)} 分钟" in notice


def test_an_agent_claims_replies_and_keeps_internal_notes_from_the_buyer(client):
    buyer = f.buyer()
    agent = f.staff(Role.AGENT, agent_no="1001")
    conversation = services.conversation_for(buyer=buyer)
    services.post_message(conversation_id=conversation.pk, author=buyer, body="转人工")

    client.force_login(agent)
    assert client.post(f"/support/staff/c/{conversation.pk}/", {"action": "claim"}).status_code == 302
    client.post(f"/support/staff/c/{conversation.pk}/", {"body": "您好，我来处理", "client_id": "r1"})
    client.post(
        f"/support/staff/c/{conversation.pk}/", {"body": "买家语气着急", "internal": "1", "client_id": "n1"}
    )

    conversation.refresh_from_db()
    assert (conversation.state, conversation.agent) == (ConversationState.WITH_AGENT, agent)
    client.force_login(buyer)
    shown = page(client, conversation)
    assert "您好，我来处理" in shown and "1001" in shown
    assert "买家语气着急" not in shown
    assert "买家语气着急" not in client.get(f"/support/c/{conversation.pk}/messages/").content.decode()


def test_a_second_agent_cannot_answer_over_the_one_holding_it():
    buyer = f.buyer()
    first, second = f.staff(Role.AGENT), f.staff(Role.AGENT)
    conversation = services.conversation_for(buyer=buyer)
    services.claim(conversation_id=conversation.pk, agent=first)

    with pytest.raises(services.SupportError, match="正在处理"):
        services.post_message(conversation_id=conversation.pk, author=second, body="我也来")
    # A note between colleagues is fine.
    services.post_message(conversation_id=conversation.pk, author=second, body="我看过订单了", internal=True)


def test_an_agent_never_takes_their_own_conversation_and_finance_is_not_in_the_chat():
    agent = f.staff(Role.AGENT)
    own = services.conversation_for(buyer=agent)
    with pytest.raises(services.SupportError):
        services.claim(conversation_id=own.pk, agent=agent)
    with pytest.raises(services.SupportError):
        services.claim(
            conversation_id=services.conversation_for(buyer=f.buyer()).pk, agent=f.staff(Role.FINANCE)
        )


def test_too_long_or_empty_messages_are_refused_with_the_limit_and_html_shows_as_text(client):
    buyer = f.buyer()
    client.force_login(buyer)
    conversation = services.conversation_for(buyer=buyer)

    response = client.post(f"/support/c/{conversation.pk}/", {"body": "长" * 2001})
    assert response.status_code == 200 and "最多 2000 字" in response.content.decode()
    assert "长" * 2001 in response.content.decode()  # what was typed is still in the box
    assert not conversation.messages.exists()
    say(client, conversation, "<script>alert(1)</script>")
    shown = page(client, conversation)
    assert "<script>alert(1)</script>" not in shown and "&lt;script&gt;" in shown


def test_the_page_refresh_returns_only_what_is_new(client):
    buyer = f.buyer()
    client.force_login(buyer)
    conversation = services.conversation_for(buyer=buyer)
    say(client, conversation, "第一条")
    last = conversation.messages.last().pk

    say(client, conversation, "第二条")
    data = client.get(f"/support/c/{conversation.pk}/messages/?after={last}").json()

    texts = [m["text"] for m in data["messages"]]
    assert "第二条" in texts and "第一条" not in texts


def test_the_wait_uses_recent_handling_times_and_names_a_promotion_peak():
    now = timezone.now()
    agent = f.staff(Role.AGENT)
    services.set_presence(agent=agent)
    for minutes in (10, 20):
        c = services.conversation_for(buyer=f.buyer())
        Conversation.objects.filter(pk=c.pk).update(
            state=ConversationState.CLOSED,
            claimed_at=now - timedelta(minutes=minutes + 1),
            closed_at=now - timedelta(minutes=1),
        )
    Promotion.objects.create(
        name="双十二", starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=1)
    )

    estimate = wait.estimate(now=now)

    assert estimate.handle_minutes == pytest.approx(15)
    assert estimate.minutes == 15 and estimate.agents_online == 1
    assert "双十二" in str(estimate.peak)
    services.set_presence(agent=agent, status="away")
    assert wait.estimate(now=now).minutes is None  # nobody on duty: no invented number
