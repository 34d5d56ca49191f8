"""The agents' desk (issue 15, item 8): one queue ordered by urgency, routing by skill and load,
taking the next conversation, the workspace beside a conversation, canned replies and transfers."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kameng.accounts.models import Role
from kameng.catalog.models import GoodsKind
from kameng.inventory.models import CardKey
from kameng.orders.services import place_order
from kameng.refunds.models import EventKind, Holder, Stage
from kameng.refunds.selectors import events_of
from kameng.refunds.services import submit_refund
from kameng.support import canned, commitments, desk, services
from kameng.support.models import AgentSkill, CannedReply, Conversation, ConversationState, Message
from tests import factories as f
from tests.orders.helpers import at_once
from tests.refunds.helpers import delivered_custom_order, evidence_for

pytestmark = pytest.mark.django_db
S = ConversationState


def key_order(buyer=None, *, price=10_00, seller=None):
    buyer = buyer or f.buyer(balance=price)
    return place_order(buyer=buyer, product=f.product(price=price, keys=1, of=seller or f.seller()))


def queued(order=None, *, buyer=None, urgent=False) -> Conversation:
    """A conversation about `order` (or a general one) whose buyer asked for a person."""
    buyer = buyer or (order.buyer if order else f.buyer())
    conversation = services.conversation_for(buyer=buyer, order=order)
    if urgent:
        Conversation.objects.filter(pk=conversation.pk).update(urgent=True)
    services.ask_for_person(conversation_id=conversation.pk, buyer=buyer)
    conversation.refresh_from_db()
    return conversation


def case_in_review(price=200_00):
    buyer = f.buyer(balance=price)
    order = delivered_custom_order(buyer, price=price, seller=f.seller(platform=True))
    case = submit_refund(
        order=order,
        actor=buyer,
        reason="not_as_described",
        demand="full_refund",
        evidence=evidence_for("not_as_described", "custom_service"),
    )
    assert case.stage == Stage.PLATFORM_REVIEW
    return case


def online(agent, *, kind: str = "", channel: str = ""):
    AgentSkill.objects.create(agent=agent, goods_kind=kind, channel=channel)
    services.set_presence(agent=agent)
    return agent


def kinds(items):
    return [(i.kind, i.pk) for i in items]


# --- the urgency score ------------------------------------------------------------------------------


def test_urgency_counts_time_left_then_urgent_marks_money_and_waiting():
    now = timezone.now()
    base = {"deadline": now + timedelta(minutes=30), "amount": 0, "urgent": False, "since": now, "now": now}

    assert desk.urgency(**base) == pytest.approx(30)
    assert desk.urgency(**{**base, "deadline": now - timedelta(minutes=5)}) == pytest.approx(-5)
    assert desk.urgency(**{**base, "deadline": None}) == pytest.approx(7 * 24 * 60)
    assert desk.urgency(**{**base, "urgent": True}) == pytest.approx(30 - 60)
    assert desk.urgency(**{**base, "amount": 1_000_00}) == pytest.approx(30 - 15)  # ¥1,000: one tenfold
    assert desk.urgency(**{**base, "amount": 50_00}) == pytest.approx(30)  # small sums earn nothing
    assert desk.urgency(**{**base, "since": now - timedelta(minutes=20)}) == pytest.approx(28)


def test_the_queue_puts_the_most_urgent_first_across_conversations_commitments_and_cases():
    agent = f.staff(Role.AGENT, agent_no="3001")
    case = case_in_review()  # deadline days away
    plain = queued(key_order())
    urgent = queued(key_order(), urgent=True)
    big = queued(key_order(price=5_000_00))
    held = queued(key_order())
    services.claim(conversation_id=held.pk, agent=agent)
    services.post_message(conversation_id=held.pk, author=agent, body="您好，正在查")
    callback_conv = services.conversation_for(buyer=f.buyer())
    callback = commitments.book_callback(
        buyer=callback_conv.buyer,
        conversation_id=callback_conv.pk,
        at=timezone.now() + timedelta(minutes=20),
        phone="13800000000",
    )
    overdue = queued(key_order())
    Conversation.objects.filter(pk=overdue.pk).update(queued_at=timezone.now() - timedelta(minutes=10))

    items = desk.queue(user=agent)

    assert kinds(items) == [
        ("waiting", urgent.pk),  # an urgent mark: an hour less slack (-57)
        ("waiting", big.pk),  # ¥5,000: 25.5 minutes less slack than the ¥10 one (-22.5)
        ("waiting", overdue.pk),  # waited 10 minutes: 7 past its 3-minute target, 1 for waiting (-8)
        ("waiting", plain.pk),
        ("commitment", callback.pk),  # call back within 20 minutes
        ("case", case.pk),
        ("held", held.pk),  # the agent spoke last: nobody is waiting on them
    ]
    assert items[2].overdue and not items[3].overdue


def test_filters_narrow_the_queue_by_goods_kind_seller_state_department_channel_and_mine(client):
    agent, other = f.staff(Role.AGENT, agent_no="3101"), f.staff(Role.AGENT, agent_no="3102")
    shop = f.seller("星辰数码")
    card = queued(key_order(seller=shop))
    mine = queued(key_order())
    services.claim(conversation_id=mine.pk, agent=agent)
    theirs = queued(key_order())
    services.claim(conversation_id=theirs.pk, agent=other)
    case = case_in_review()
    email = queued(key_order())
    Message.objects.create(conversation=email, channel="email", author_kind="buyer", body="邮件来信")

    def ids(**filters):
        return kinds(desk.queue(user=agent, filters=desk.Filters(**filters)))

    assert ids(seller=shop.pk) == [("waiting", card.pk)]
    assert ids(goods_kind=GoodsKind.CUSTOM_SERVICE) == [("case", case.pk)]
    assert ids(state="held", mine=True) == [("held", mine.pk)]
    assert ids(state="case") == [("case", case.pk)]
    assert ids(channel="email") == [("waiting", email.pk)]
    client.force_login(agent)
    page = client.get(f"/support/staff/?seller={shop.pk}&goods_kind=nonsense&seller=x").content.decode()
    assert f"/support/staff/c/{card.pk}/" in page  # unknown values are ignored, never a 500
    only_shop = client.get(f"/support/staff/?seller={shop.pk}").content.decode()
    assert f"/support/staff/c/{card.pk}/" in only_shop and f"/support/staff/c/{mine.pk}/" not in only_shop
    api = client.get("/api/support/desk?state=held&mine=true").json()
    assert [(i["kind"], i["id"]) for i in api] == [("held", mine.pk)]
    assert client.get("/api/support/desk?state=bogus").status_code == 422


def test_htmx_redraws_only_the_list(client):
    agent = f.staff(Role.AGENT)
    conv = queued(key_order())
    client.force_login(agent)

    partial = client.get("/support/staff/", headers={"HX-Request": "true"}).content.decode()

    assert f"/support/staff/c/{conv.pk}/" in partial
    assert "<html" not in partial and 'id="desk-items"' in partial


@pytest.mark.parametrize("endpoint", ["queue", "page", "api"])
def test_the_queue_costs_the_same_number_of_statements_for_3_or_30_items(client, endpoint):
    agent = f.staff(Role.AGENT)
    client.force_login(agent)

    def fill(n):
        for _ in range(n):
            queued(key_order())
            case_in_review()

    def count():
        with CaptureQueriesContext(connection) as ctx:
            if endpoint == "queue":
                items = desk.queue(user=agent)
            elif endpoint == "page":
                items = client.get("/support/staff/").context["items"]
            else:
                items = client.get("/api/support/desk").json()
        return len(ctx.captured_queries), len(items)

    fill(3)
    small, n_small = count()
    fill(27)
    large, n_large = count()

    assert (n_small, n_large) == (6, 60)
    # No statement per item (the page's wait line may skip a query when the line is long).
    assert large <= small
    if endpoint == "queue":
        assert small == 3  # one query per source


# --- routing and taking the next ----------------------------------------------------------------------


def test_a_queued_conversation_goes_to_the_least_loaded_online_agent_with_the_skill():
    busy = online(f.staff(Role.AGENT, agent_no="4001"), kind=GoodsKind.CARD_KEY)
    free = online(f.staff(Role.AGENT, agent_no="4002"), kind=GoodsKind.CARD_KEY, channel="web")
    online(f.staff(Role.AGENT, agent_no="4003"), kind=GoodsKind.ACTIVATION)  # another kind
    online(f.staff(Role.AGENT, agent_no="4004"), channel="email")  # another channel
    order = key_order()
    services.claim(conversation_id=services.conversation_for(buyer=order.buyer).pk, agent=busy)

    conv = queued(order)

    assert (conv.state, conv.agent) == (S.WITH_AGENT, free)
    assert "客服 4002 为您服务" in conv.messages.order_by("-id").first().text
    assert queued(key_order()).agent == busy  # now one each: the tie goes to the first


def test_nobody_skilled_online_or_everyone_at_the_cap_leaves_it_in_the_queue(settings):
    settings.SUPPORT_AGENT_CAP = 1
    agent = online(f.staff(Role.AGENT, agent_no="4101"), kind=GoodsKind.CARD_KEY)
    activation = place_order(
        buyer=f.buyer(balance=10_00),
        product=f.product(kind=GoodsKind.ACTIVATION, price=10_00),
        target_account="user@example.com",
    )

    assert queued(activation).state == S.QUEUED  # no skill for it
    assert queued(key_order()).agent == agent
    assert queued(key_order()).state == S.QUEUED  # at the cap
    services.set_presence(agent=agent, status="away")
    settings.SUPPORT_AGENT_CAP = 5
    assert queued(key_order()).state == S.QUEUED  # away


def test_take_next_gives_the_most_urgent_one_the_agent_has_a_skill_for_and_respects_the_cap(client, settings):
    settings.SUPPORT_AGENT_CAP = 2
    agent = f.staff(Role.AGENT, agent_no="4201")
    AgentSkill.objects.create(agent=agent, goods_kind=GoodsKind.CARD_KEY)  # not online: not routed
    topup = place_order(
        buyer=f.buyer(balance=10_00),
        product=f.product(kind=GoodsKind.DIRECT_TOPUP, price=10_00),
        target_account="13800000000",
    )
    other_kind = queued(topup, urgent=True)
    older = queued(key_order())
    urgent = queued(key_order(), urgent=True)
    client.force_login(agent)

    first = client.post("/support/staff/next/")
    second = client.post("/api/support/desk/next", content_type="application/json").json()
    third = client.post("/support/staff/next/", follow=True)

    assert first["Location"] == f"/support/staff/c/{urgent.pk}/"
    assert second["conversation"]["id"] == older.pk
    assert "上限 2 个" in third.content.decode()  # the cap: refused, said why
    other_kind.refresh_from_db()
    assert other_kind.state == S.QUEUED  # not this agent's skill


def test_take_next_when_nothing_waits_says_so(client):
    client.force_login(f.staff(Role.AGENT))
    page = client.post("/support/staff/next/", follow=True).content.decode()
    assert "现在没有您可以接待的等待中会话" in page
    assert client.post("/api/support/desk/next").json() == {"conversation": None}


@pytest.mark.django_db(transaction=True)
def test_agents_taking_next_at_once_get_different_conversations(on_postgres):
    waiting = [queued(key_order()).pk for _ in range(6)]
    agents = [f.staff(Role.AGENT) for _ in range(6)]

    results = at_once(6, lambda i: desk.assign_next(agent=agents[i]))

    taken = [value.pk for outcome, value in results if outcome == "ok" and value is not None]
    assert [o for o, _ in results] == ["ok"] * 6, results
    assert sorted(taken) == sorted(waiting)  # everyone got one, nobody the same
    assert Conversation.objects.filter(state=S.WITH_AGENT).values("agent").distinct().count() == 6


@pytest.mark.django_db(transaction=True)
def test_conversations_queued_at_once_never_push_an_agent_over_the_cap(on_postgres, settings):
    settings.SUPPORT_AGENT_CAP = 2
    agent = online(f.staff(Role.AGENT), kind=GoodsKind.CARD_KEY)
    convs = [services.conversation_for(buyer=o.buyer, order=o) for o in (key_order() for _ in range(5))]

    at_once(5, lambda i: services.ask_for_person(conversation_id=convs[i].pk, buyer=convs[i].buyer))

    assert Conversation.objects.filter(agent=agent, state=S.WITH_AGENT).count() == 2
    assert Conversation.objects.filter(state=S.QUEUED).count() == 3


# --- the workspace ------------------------------------------------------------------------------------


def test_the_workspace_shows_the_order_payments_delivery_case_and_whole_conversation_never_the_key(client):
    agent = f.staff(Role.AGENT, agent_no="5001")
    order = key_order(price=30_00)
    key = CardKey.objects.get(order=order)
    conv = queued(order)
    services.post_message(conversation_id=conv.pk, author=agent, body="内部：买家说卡密无效", internal=True)
    commitments.log_call(
        conversation_id=conv.pk, agent=agent, direction="in", number="13900000000", summary="来电询问卡密"
    )
    client.force_login(agent)

    page = client.get(f"/support/staff/c/{conv.pk}/").content.decode()

    assert order.no in page and "¥30.00" in page and "标准化卡密" in page
    assert "支付成功" in page and "从未查看" in page and "发放于" in page
    assert "内部：买家说卡密无效" in page and "来电询问卡密" in page and "13900000000" in page
    assert "KEY-" not in page and key.secret_enc not in page


def test_the_workspace_shows_the_refund_progress_and_links_to_its_actions(client):
    case = case_in_review()
    conv = queued(case.order)
    client.force_login(f.staff(Role.AGENT))

    page = client.get(f"/support/staff/c/{conv.pk}/").content.decode()

    assert f'href="/refunds/staff/{case.pk}/"' in page
    assert 'class="steps"' in page and "平台审核" in page


# --- canned replies -----------------------------------------------------------------------------------


def test_a_canned_reply_is_filled_in_for_the_conversation_and_sent(client):
    agent = f.staff(Role.AGENT, agent_no="6001")
    order = key_order(buyer=f.buyer("小李", balance=25_00), price=25_00)
    conv = queued(order)
    reply = CannedReply.objects.get(title="问候")
    client.force_login(agent)

    page = client.get(f"/support/staff/c/{conv.pk}/?canned={reply.pk}").content.decode()

    text = f"您好，我是客服 6001，很高兴为您服务。请问订单 {order.no} 遇到了什么问题？"
    assert f">{text}</textarea>" in page
    client.post(f"/support/staff/c/{conv.pk}/", {"action": "reply", "body": text, "client_id": "c1"})
    client.force_login(order.buyer)
    assert text in client.get(f"/support/c/{conv.pk}/").content.decode()


def test_a_variable_without_a_value_stays_visible_and_the_reply_is_refused_until_it_is_filled(client):
    agent = f.staff(Role.AGENT, agent_no="6101")
    conv = queued()  # a general conversation: no order number
    reply = CannedReply.objects.create(title="优惠", text="{买家}您好，订单 {订单号} 可用 {优惠券}。")
    client.force_login(agent)

    page = client.get(f"/support/staff/c/{conv.pk}/?canned={reply.pk}").content.decode()
    draft = f"{conv.buyer}您好，订单 {{订单号}} 可用 {{优惠券}}。"
    assert f">{draft}</textarea>" in page and 'id="unfilled"' in page

    refused = client.post(f"/support/staff/c/{conv.pk}/", {"action": "reply", "body": draft})
    body = refused.content.decode()

    assert refused.status_code == 200 and "{订单号} {优惠券}" in body and "内容没有发出" in body
    assert f">{draft}</textarea>" in body  # the draft stays in the box
    assert not conv.messages.filter(author_kind="agent").exists()
    note = client.post(f"/support/staff/c/{conv.pk}/", {"action": "reply", "body": draft, "internal": "1"})
    assert note.status_code == 302  # an internal note may keep the placeholders


def test_canned_replies_over_the_api(client):
    agent = f.staff(Role.AGENT, agent_no="6201")
    conv = queued(key_order(price=12_00))
    client.force_login(agent)

    listed = client.get("/api/support/canned").json()
    filled = client.get(f"/api/support/conversations/{conv.pk}/canned").json()

    assert {"问候", "退款进度"} <= {r["title"] for r in listed}
    progress = next(r for r in filled if r["title"] == "退款进度")
    assert "12.00" in progress["text"] and conv.order.no in progress["text"]
    assert progress["unfilled"] == ["{截止时间}"]  # no case, no commitment: nothing to promise
    assert canned.unfilled(progress["text"]) == ["{截止时间}"]
    client.force_login(conv.buyer)
    assert client.get("/api/support/canned").status_code == 403


# --- transfer -----------------------------------------------------------------------------------------


def test_a_transfer_without_a_case_tells_the_buyer_and_waits_in_the_departments_queue(client):
    agent = f.staff(Role.AGENT, agent_no="7001")
    conv = queued(key_order())
    services.claim(conversation_id=conv.pk, agent=agent)
    client.force_login(agent)

    response = client.post(
        f"/support/staff/c/{conv.pk}/",
        {"action": "transfer", "department": "tech", "reason": "卡密批次需核实"},
    )

    assert response.status_code == 302
    conv.refresh_from_db()
    assert (conv.department, conv.state, conv.agent) == ("tech", S.QUEUED, None)
    tech = desk.queue(user=agent, filters=desk.Filters(department="tech"))
    assert kinds(tech) == [("waiting", conv.pk)]
    assert tech[0].deadline == conv.transferred_at + timedelta(hours=24)
    client.force_login(conv.buyer)
    page = client.get(f"/support/c/{conv.pk}/").content.decode()
    assert "已转交技术核实：卡密批次需核实，预计" in page


def test_a_transfer_with_a_case_in_review_moves_the_case_on_the_buyers_timeline(client):
    case = case_in_review()
    conv = queued(case.order)
    agent = f.staff(Role.AGENT, agent_no="7101")
    client.force_login(agent)

    result = client.post(
        f"/api/support/conversations/{conv.pk}/transfer",
        {"department": "finance", "reason": "付款记录需财务核对"},
        content_type="application/json",
    )

    assert result.status_code == 200
    case.refresh_from_db()
    assert case.holder == Holder.FINANCE
    assert events_of(case).filter(kind=EventKind.TRANSFERRED).count() == 1
    client.force_login(case.buyer)
    timeline = client.get(f"/refunds/{case.pk}/").content.decode()
    assert "付款记录需财务核对" in timeline


def test_seller_relations_has_no_case_holder_so_the_case_stays_where_it_is(client):
    case = case_in_review()
    conv = queued(case.order)
    agent = f.staff(Role.AGENT)

    desk.transfer(conversation_id=conv.pk, agent=agent, department="seller", reason="请卖家补交付说明")

    case.refresh_from_db()
    conv.refresh_from_db()
    assert case.holder == Holder.AGENT and conv.department == "seller"


def test_a_transfer_needs_a_department_and_a_reason(client):
    agent = f.staff(Role.AGENT)
    conv = queued(key_order())
    client.force_login(agent)

    page = client.post(
        f"/support/staff/c/{conv.pk}/",
        {"action": "transfer", "department": "tech", "reason": " "},
        follow=True,
    ).content.decode()
    api = client.post(
        f"/api/support/conversations/{conv.pk}/transfer",
        {"department": "legal", "reason": "x"},
        content_type="application/json",
    )

    assert "转交需要写明原因" in page and api.status_code == 422
    conv.refresh_from_db()
    assert conv.department == ""
