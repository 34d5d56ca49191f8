"""Payment-channel complaints (SPEC §8, issue 15): a buyer who complains to WeChat Pay or Alipay
instead of to us. The channel's signed notification, repeated, opens one complaint that joins the
order's conversation and refund case with the channel's deadlines; staff reply to the channel; the
complaint is completed there only once the buyer can see the money back."""

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.utils import timezone

from kameng.accounts.models import Role
from kameng.evidence.models import Event
from kameng.payments.gateway import sign
from kameng.refunds.models import Payout, RefundCase, Stage
from kameng.refunds.services import approve_refund, claim, submit_refund
from kameng.support.models import (
    ChannelCall,
    ChannelComplaint,
    ChannelComplaintRule,
    Conversation,
    Message,
    SandboxChannelCall,
)
from kameng.support.paychannel import outbox
from kameng.support.paychannel.client import CLIENTS, ChannelError, client_for
from kameng.support.paychannel.deadlines import ensure_default_rules
from kameng.support.paychannel.services import receive, reply
from kameng.wallet.selectors import posted_keys
from tests import factories as f
from tests.orders.helpers import at_once
from tests.refunds.helpers import agent, gateway_order

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
URL = "/channels/pay/{}/complaints/"


@pytest.fixture(autouse=True)
def _rules_and_healthy_channels(_default_policy):
    # A transactional test's flush wipes the rule rows the migration wrote: put them back.
    ensure_default_rules()
    for channel in ("wechatpay", "alipay"):
        client_for(channel).fail_next(0)
    yield
    for channel_client in CLIENTS.values():
        channel_client.fail_next(0)


def platform_order(buyer, price=88_00):
    """Paid online for a platform custom service not delivered yet: a filed case waits for review."""
    product = f.product(kind="custom_service", price=price, of=f.seller(platform=True))
    return gateway_order(buyer, product)


def body_for(order, *, complaint_id="200000020261208000001", **extra) -> bytes:
    fields = {
        "complaint_id": complaint_id,
        "out_trade_no": order.payments.get().out_trade_no,
        "complaint_type": "consumer",
        "detail": "付了钱一直没有交付，要求退款",
        "amount": order.amount,
        "state": "PENDING",
    }
    fields.update(extra)
    return json.dumps(fields, ensure_ascii=False).encode()


def notify(client, order=None, *, channel="wechatpay", body=None, signature=None, **extra):
    body = body if body is not None else body_for(order, **extra)
    if signature is None:
        signature = signed(body)
    return client.post(
        URL.format(channel), body, content_type="application/json", headers={"X-Signature": signature}
    )


def signed(body: bytes) -> str:
    """The signature the channel sends: HMAC-SHA256 of the body with the shared secret."""
    return sign(body, settings.PAY_CHANNEL_SECRET)


def complaint_of(order) -> ChannelComplaint:
    return ChannelComplaint.objects.get(order=order)


def texts(conversation) -> list[str]:
    return [m.text for m in Message.objects.filter(conversation=conversation).order_by("id")]


# --- a notification arrives -----------------------------------------------------------------------


def test_a_signed_notification_opens_one_complaint_a_case_and_a_message_in_the_buyers_conversation(client):
    buyer = f.buyer()
    order = platform_order(buyer)

    response = notify(client, order)

    assert response.status_code == 200 and response.content == b"success"
    complaint = complaint_of(order)
    assert (complaint.channel, complaint.amount, complaint.state) == ("wechatpay", 88_00, "open")
    case = RefundCase.objects.get(order=order)
    assert complaint.case == case and case.is_open and case.channel == "system"
    assert case.stage == Stage.PLATFORM_REVIEW
    assert Event.objects.filter(stream=case.stream, kind="channel_complaint").count() == 1
    conversation = Conversation.objects.get(buyer=buyer, order=order)
    assert conversation.urgent and conversation.state == "queued"
    assert any(t.startswith("您在微信支付提交的投诉已转入本会话") for t in texts(conversation))
    client.force_login(agent())
    timeline = client.get(f"/refunds/staff/{case.pk}/").content.decode()
    assert "买家向微信支付投诉（投诉单号 200000020261208000001），诉求 ¥88.00" in timeline


def test_the_same_notification_three_times_is_one_complaint_and_changes_nothing_more(client):
    order = platform_order(f.buyer())
    notify(client, order)
    messages, events = Message.objects.count(), Event.objects.count()

    answers = [notify(client, order).status_code for _ in range(2)]

    assert answers == [200, 200]
    assert ChannelComplaint.objects.count() == 1
    assert RefundCase.objects.filter(order=order).count() == 1
    assert (Message.objects.count(), Event.objects.count()) == (messages, events)


def test_the_sandbox_channel_notifies_each_complaint_more_than_once_and_it_is_stored_once():
    order = platform_order(f.buyer())

    answers = client_for("alipay").complain(
        times=3,
        complaint_id="2026120822001400000001",
        out_trade_no=order.payments.get().out_trade_no,
        detail="没有交付",
        amount=order.amount,
    )

    assert [a.status for a in answers] == [200, 200, 200]
    assert [a.created for a in answers] == [True, False, False]
    assert complaint_of(order).kind == "trade"  # no type given: Alipay's default rule


def test_a_notification_with_news_updates_the_complaint_for_staff_only(client):
    order = platform_order(f.buyer())
    notify(client, order)

    notify(client, order, state="PROCESSING")

    complaint = complaint_of(order)
    assert complaint.channel_state == "PROCESSING"
    note = Message.objects.filter(conversation=complaint.conversation).last()
    assert note.internal and "PROCESSING" in note.text


def test_a_complaint_about_an_order_with_an_open_case_joins_that_case(client):
    buyer = f.buyer()
    order = platform_order(buyer)
    case = submit_refund(order=order, actor=buyer, reason="other", demand="full_refund", description="没交付")

    notify(client, order, channel="alipay", complaint_type="trade")

    assert complaint_of(order).case == case
    assert RefundCase.objects.filter(order=order).count() == 1
    assert Event.objects.filter(stream=case.stream, kind="channel_complaint").exists()


def test_bad_signature_malformed_body_and_unknown_order_store_nothing(client, caplog):
    order = platform_order(f.buyer())
    good = body_for(order)
    before = (Message.objects.count(), RefundCase.objects.count())

    forged = notify(client, order, body=good, signature="0" * 64)
    unsigned = client.post(URL.format("wechatpay"), good, content_type="application/json")
    malformed = notify(client, body=b'{"complaint_id": 5}')
    wrong_amount = notify(client, body=body_for(order, amount="88.00"))
    unknown = notify(client, body=body_for(order, out_trade_no="P-NOT-OURS"))
    no_channel = client.post(URL.format("unionpay"), good, content_type="application/json")

    assert [r.status_code for r in (forged, unsigned, malformed, wrong_amount, unknown, no_channel)] == [
        403,
        403,
        400,
        400,
        404,
        404,
    ]
    assert ChannelComplaint.objects.count() == 0
    assert (Message.objects.count(), RefundCase.objects.count()) == before
    assert "unknown order" in caplog.text and "P-NOT-OURS" in caplog.text
    assert client.get(URL.format("wechatpay")).status_code == 405


# --- deadlines, from the rule rows ------------------------------------------------------------------


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("channel", "kind", "first", "resolve"),
    [
        # 消费者投诉: first reply by the end of the next day, resolved within 3 days.
        ("wechatpay", "consumer", "2026-12-04 00:00", "2026-12-05 22:30"),
        # 小程序交易投诉: 48 hours.
        ("wechatpay", "mini_program", "2026-12-04 22:30", "2026-12-04 22:30"),
        # Alipay: our default, 24 h to the first reply, 3 days to resolve.
        ("alipay", "trade", "2026-12-03 22:30", "2026-12-05 22:30"),
        # No type given: the channel's default rule.
        ("alipay", "", "2026-12-03 22:30", "2026-12-05 22:30"),
    ],
)
def test_deadlines_come_from_the_channels_rule_rows(client, channel, kind, first, resolve):
    order = platform_order(f.buyer())

    notify(client, order, channel=channel, complaint_type=kind, complained_at="2026-12-02T22:30:00+08:00")

    complaint = complaint_of(order)
    assert complaint.first_reply_due == _at(first)
    assert complaint.resolve_due == _at(resolve)


def test_an_admin_changing_a_rule_changes_the_deadlines_of_new_complaints(client):
    ChannelComplaintRule.objects.filter(channel="wechatpay", kind="consumer").update(
        first_reply=6, first_reply_unit="hours"
    )
    order = platform_order(f.buyer())

    notify(client, order, complained_at="2026-12-02T22:30:00+08:00")

    assert complaint_of(order).first_reply_due == _at("2026-12-03 04:30")


# --- replies go back to the channel -----------------------------------------------------------------


# The worker opens its own connection: on PostgreSQL it must see committed data.
@pytest.mark.django_db(transaction=True)
def test_an_agent_replies_from_the_conversation_page_and_the_channel_gets_it_once(
    client, django_capture_on_commit_callbacks, drain_tasks
):
    buyer = f.buyer()
    order = platform_order(buyer)
    notify(client, order)
    complaint = complaint_of(order)
    staff = agent()
    client.force_login(staff)

    page = client.get(f"/support/staff/c/{complaint.conversation_id}/")
    assert "发送到支付渠道" in page.content.decode() and complaint.complaint_id in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/support/staff/c/{complaint.conversation_id}/",
            {
                "action": "channel_reply",
                "complaint": complaint.pk,
                "channel_reply": "您好，已为您加急处理退款。",
            },
        )
    assert response.status_code == 302
    drain_tasks()
    drain_tasks()  # a second run sends nothing new

    complaint.refresh_from_db()
    assert complaint.state == "replied" and complaint.replied_at is not None
    sent = SandboxChannelCall.objects.filter(complaint_id=complaint.complaint_id, action="reply")
    assert [c.text for c in sent] == ["您好，已为您加急处理退款。"]
    client.force_login(buyer)
    assert (
        "您好，已为您加急处理退款。"
        in client.get(f"/support/c/{complaint.conversation_id}/").content.decode()
    )


# The worker opens its own connection: on PostgreSQL it must see committed data.
@pytest.mark.django_db(transaction=True)
def test_a_reply_the_channel_refuses_for_now_is_sent_by_a_later_tick(
    client, django_capture_on_commit_callbacks, drain_tasks
):
    order = platform_order(f.buyer())
    notify(client, order)
    complaint = complaint_of(order)
    client_for("wechatpay").fail_next(1)
    client.force_login(agent())

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/api/support/channel-complaints/{complaint.pk}/reply",
            {"text": "已收到，正在处理"},
            content_type="application/json",
        )
    assert response.status_code == 201 and response.json()["sent"] is False
    drain_tasks()
    call = ChannelCall.objects.get(complaint=complaint)
    assert call.sent_at is None and call.attempts == 1 and "busy" in call.last_error
    assert not SandboxChannelCall.objects.exists()

    assert outbox.tick(timezone.now() + timedelta(minutes=1))["complaint_calls_resent"] == 1
    drain_tasks()

    call.refresh_from_db()
    assert call.sent_at is not None
    assert SandboxChannelCall.objects.filter(action="reply").count() == 1
    assert outbox.tick(timezone.now() + timedelta(minutes=20))["complaint_calls_resent"] == 0


def test_without_a_client_for_the_channel_a_reply_waits_and_backs_off(client, monkeypatch):
    order = platform_order(f.buyer())
    notify(client, order)
    complaint = complaint_of(order)
    reply(complaint_id=complaint.pk, agent=agent(), text="已收到")
    monkeypatch.delitem(CLIENTS, "wechatpay")  # a deployment with the sandbox off and no real client

    assert outbox.flush(complaint.pk) == 0

    call = ChannelCall.objects.get(complaint=complaint)
    assert call.sent_at is None and call.attempts == 1 and call.next_attempt_at > timezone.now()


def test_a_reply_too_long_for_the_channel_is_refused_with_nothing_sent(client):
    order = platform_order(f.buyer())
    notify(client, order)
    client.force_login(agent())

    response = client.post(
        f"/api/support/channel-complaints/{complaint_of(order).pk}/reply",
        {"text": "长" * 201},
        content_type="application/json",
    )

    assert response.status_code == 422
    assert not ChannelCall.objects.exists()


# --- completion only once the money is back -------------------------------------------------------------


# The worker opens its own connection: on PostgreSQL it must see committed data.
@pytest.mark.django_db(transaction=True)
def test_the_complaint_is_completed_at_the_channel_only_after_the_refund_reaches_the_buyer(
    client, django_capture_on_commit_callbacks, drain_tasks
):
    buyer = f.buyer()
    order = platform_order(buyer, price=66_00)
    notify(client, order)
    complaint = complaint_of(order)
    later = lambda: timezone.now() + timedelta(minutes=5)  # noqa: E731

    assert outbox.tick(later())["complaints_completing"] == 0  # still in review: nothing to complete
    staff = agent()
    claim(case_id=complaint.case_id, agent=staff)
    with django_capture_on_commit_callbacks(execute=True):
        approve_refund(case_id=complaint.case_id, agent=staff, note="同意退款", confirmed_amount=66_00)
    complaint.case.refresh_from_db()
    assert complaint.case.stage == Stage.REFUNDING  # back through the gateway: not there yet
    assert outbox.tick(later())["complaints_completing"] == 0

    drain_tasks()  # the gateway confirms the refund
    complaint.case.refresh_from_db()
    assert complaint.case.stage == Stage.REFUNDED
    keys = set(Payout.objects.filter(case=complaint.case).values_list("key", flat=True))
    assert posted_keys(keys) == keys
    with django_capture_on_commit_callbacks(execute=True):
        assert outbox.tick(later())["complaints_completing"] == 1
    drain_tasks()

    complaint.refresh_from_db()
    assert complaint.state == "completed" and complaint.completed_at is not None
    told = SandboxChannelCall.objects.filter(complaint_id=complaint.complaint_id)
    assert list(told.order_by("id").values_list("action", "amount")) == [("refund", 66_00), ("complete", 0)]
    assert any("已完结" in t for t in texts(complaint.conversation))
    assert outbox.tick(later())["complaints_completing"] == 0


def test_the_sandbox_channel_refuses_to_complete_a_complaint_it_has_seen_no_refund_for(client):
    order = platform_order(f.buyer())
    notify(client, order)
    complaint = complaint_of(order)
    channel = client_for("wechatpay")

    with pytest.raises(ChannelError):
        channel.complete(complaint, key="k-complete")
    channel.report_refund(complaint, 88_00, key="k-refund")
    channel.report_refund(complaint, 88_00, key="k-refund")  # a retry: the channel dedupes
    channel.complete(complaint, key="k-complete")

    assert SandboxChannelCall.objects.filter(action="refund").count() == 1
    assert SandboxChannelCall.objects.filter(action="complete").count() == 1


# --- a missed first reply -----------------------------------------------------------------------------


def test_a_missed_first_reply_tells_the_supervisors_once(client):
    order = platform_order(f.buyer())
    notify(client, order)
    complaint = complaint_of(order)
    boss = f.staff(Role.SUPERVISOR)

    assert outbox.tick(complaint.first_reply_due - timedelta(minutes=1))["complaints_escalated"] == 0
    assert outbox.tick(complaint.first_reply_due + timedelta(minutes=1))["complaints_escalated"] == 1
    assert outbox.tick(complaint.first_reply_due + timedelta(minutes=2))["complaints_escalated"] == 0

    assert f.told(boss, "已超过首次回复时限", f"/support/staff/c/{complaint.conversation_id}/") == 1


# --- who sees what ------------------------------------------------------------------------------------


def test_staff_see_the_list_with_time_left_and_buyers_see_only_their_own_conversation(client):
    buyer = f.buyer()
    order = platform_order(buyer)
    notify(client, order)
    complaint = complaint_of(order)

    client.force_login(buyer)
    assert client.get("/support/staff/complaints/").status_code in (302, 403, 404)
    assert client.get("/api/support/channel-complaints").status_code == 403
    mine = client.get(f"/support/c/{complaint.conversation_id}/").content.decode()
    assert "支付渠道投诉" in mine and "发送到支付渠道" not in mine

    client.force_login(agent())
    page = client.get("/support/staff/complaints/").content.decode()
    assert complaint.complaint_id in page and order.no in page and "还剩" in page
    listed = client.get("/api/support/channel-complaints").json()
    assert listed["count"] == 1
    item = listed["items"][0]
    assert item["complaint_id"] == complaint.complaint_id and item["first_reply_left"].startswith("还剩")


# --- the same notification at once ----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_same_notification_delivered_at_once_is_one_complaint(on_postgres):
    order = platform_order(f.buyer())
    body = body_for(order)
    signature = signed(body)

    results = at_once(8, lambda i: receive(channel="wechatpay", body=body, signature=signature).status)

    assert [value for _outcome, value in results] == [200] * 8, results
    assert ChannelComplaint.objects.count() == 1
    assert RefundCase.objects.filter(order=order).count() == 1
    assert Message.objects.filter(said__text__startswith="您在%(ch)s提交的投诉").count() == 1
