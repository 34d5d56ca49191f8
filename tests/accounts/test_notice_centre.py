"""The notice centre (issue 15, item 9): every user reads their notices newest first, marks them
read, sees an unread badge on every page that a small poll keeps current, and (if they chose so)
gets them by email, one mail per burst, at least once and never twice; staff are reminded of
their deadlines once each, however often the tick runs."""

import re
import socket
from datetime import timedelta
from email import message_from_bytes
from email.header import decode_header, make_header

import pytest
from aiosmtpd.controller import Controller
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from freezegun import freeze_time

from kameng.accounts.mail import compose, send_notice_mail
from kameng.accounts.models import Notice, Role
from kameng.accounts.services import Notification, notify, notify_many, register_buyer
from kameng.ops.tick import tick
from kameng.refunds.models import Stage, Timer, TimerKind
from kameng.refunds.reminders import remind_due_soon
from kameng.refunds.services import claim, fire_timer, seller_refuse, submit_refund
from kameng.sentences import Sentence
from tests import factories as f
from tests.refunds.helpers import at_once, delivered_custom_order, evidence_for, screenshot

pytestmark = pytest.mark.django_db


def badge(page: str) -> str:
    match = re.search(r'id="notice-count"[^>]*>([^<]*)<', page)
    return match.group(1) if match else ""


def buyer_with_email(name: str, *, email: str = "", **extra):
    user = register_buyer(username=name, password=f.PASSWORD, email=email or f"{name}@example.com")
    for field, value in extra.items():
        setattr(user, field, value)
    user.save()
    return user


def after_the_window():
    """The tick a little more than a minute later: the digest window of the notices is over."""
    return freeze_time(timezone.now() + timedelta(seconds=61))


# --- the centre and the badge -----------------------------------------------------------------------


def test_a_buyer_reads_notices_newest_first_marks_them_read_and_the_badge_follows(client):
    buyer, other = f.buyer(), f.buyer()
    with freeze_time(timezone.now() - timedelta(minutes=5)):
        older = notify(buyer, Sentence("退款已到账"), link="/wallet/")
    newer = notify(buyer, Sentence("卖家已答复"), link="/refunds/1/")
    theirs = notify(other, Sentence("别人的通知"))
    client.force_login(buyer)

    page = client.get("/notices/").content.decode()
    assert page.index("卖家已答复") < page.index("退款已到账")
    assert "别人的通知" not in page
    assert badge(client.get("/orders/").content.decode()) == "2"  # on every page

    response = client.post(f"/notices/{older.pk}/read/", {"go": "1"})
    assert response.status_code == 302 and response["Location"] == "/wallet/"
    assert badge(client.get("/notices/").content.decode()) == "1"
    client.post(f"/notices/{theirs.pk}/read/")  # someone else's: nothing happens
    theirs.refresh_from_db()
    assert theirs.read_at is None

    poll = client.get("/notices/unread.json").json()
    assert poll["unread"] == 1 and [n["text"] for n in poll["newest"]] == ["卖家已答复"]
    client.post("/notices/read-all/")
    newer.refresh_from_db()
    assert newer.read_at is not None
    assert client.get("/notices/unread.json").json() == {"unread": 0, "newest": []}
    assert 'id="notice-count"' in (page := client.get("/notices/").content.decode()) and "hidden" in page


def test_marking_read_needs_a_post_with_csrf(client):
    buyer = f.buyer()
    notice = notify(buyer, Sentence("新通知"))
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(buyer)

    assert strict.get(f"/notices/{notice.pk}/read/").status_code == 405
    assert strict.post(f"/notices/{notice.pk}/read/").status_code == 403
    notice.refresh_from_db()
    assert notice.read_at is None


def test_the_badge_costs_one_query_and_lists_do_not_grow_with_notices(client):
    buyer = f.buyer()
    client.force_login(buyer)
    notify_many([Notification(buyer.pk, Sentence("通知 %(n)d", n=i)) for i in range(3)])

    with CaptureQueriesContext(connection) as few:
        client.get("/notices/")
    notify_many([Notification(buyer.pk, Sentence("通知 %(n)d", n=i)) for i in range(40)])
    with CaptureQueriesContext(connection) as many:
        client.get("/notices/")
    with CaptureQueriesContext(connection) as wallet:
        client.get("/wallet/")

    assert len(many.captured_queries) == len(few.captured_queries)
    counts = [
        q["sql"] for q in wallet.captured_queries if "COUNT" in q["sql"] and "accounts_notice" in q["sql"]
    ]
    assert len(counts) == 1  # the badge, once per page
    assert "/notices/" in client.get("/wallet/").content.decode()  # the wallet links to the centre


def test_the_wallet_still_shows_the_latest_notices_and_the_api_marks_them_read(client):
    buyer = f.buyer()
    notice = notify(buyer, Sentence("余额已到账"), link="/wallet/")
    client.force_login(buyer)
    assert "余额已到账" in client.get("/wallet/").content.decode()

    listed = client.get("/api/notices?unread=true").json()
    assert listed["count"] == 1 and listed["items"][0]["text"] == "余额已到账"
    assert client.get("/api/notices/unread").json()["unread"] == 1
    read = client.post(f"/api/notices/{notice.pk}/read")
    assert read.status_code == 200 and read.json()["read"] is True
    assert client.post("/api/notices/999999/read").status_code == 404
    assert client.post("/api/notices/read-all").json() == {"marked": 0}


# --- by email ----------------------------------------------------------------------------------------


# The worker opens its own connection: on PostgreSQL it must see committed data.
@pytest.mark.django_db(transaction=True)
def test_a_burst_of_notices_is_one_mail_in_chinese_sent_once(drain_tasks):
    buyer = buyer_with_email("mailbuyer")
    staff_member = f.staff(Role.AGENT)
    staff_member.email = "agent@example.com"
    staff_member.save()
    notify(buyer, Sentence("退款申请已提交"), link="/refunds/7/")
    notify_many(
        [Notification(buyer.pk, Sentence("卖家已同意退款")), Notification(staff_member.pk, Sentence("x"))]
    )

    tick()  # within the window: nothing yet
    drain_tasks()
    assert mail.outbox == []
    with after_the_window():
        tick()
    drain_tasks()
    with freeze_time(timezone.now() + timedelta(minutes=10)):
        tick()  # again, later: nothing is sent twice
    drain_tasks()

    assert len(mail.outbox) == 1  # staff get no mail unless they ask for it
    sent = mail.outbox[0]
    assert sent.to == ["mailbuyer@example.com"]
    assert "2 条新通知" in sent.subject
    assert "退款申请已提交" in sent.body and "卖家已同意退款" in sent.body
    assert "http://127.0.0.1:8000/refunds/7/" in sent.body or "/refunds/7/" in sent.body
    ids = sorted(Notice.objects.filter(user=buyer).values_list("pk", flat=True))
    assert sent.extra_headers["X-Kameng-Notices"] == ",".join(map(str, ids))
    assert Notice.objects.filter(user=buyer, mailed_at__isnull=True).count() == 0


# The worker opens its own connection: on PostgreSQL it must see committed data.
@pytest.mark.django_db(transaction=True)
def test_a_buyer_who_turned_mail_off_or_has_no_address_gets_none(client, drain_tasks):
    quiet = buyer_with_email("quiet")
    nobody = f.buyer()  # no email address
    client.force_login(quiet)
    assert client.post("/notices/settings/", {"language": "zh-hans"}).status_code == 302
    client.force_login(nobody)
    refused = client.post("/notices/settings/", {"email_notices": "1", "language": "zh-hans"})
    assert refused.status_code == 400 and "没有邮箱地址" in refused.content.decode()
    notify(quiet, Sentence("通知一"))
    notify(nobody, Sentence("通知二"))

    with after_the_window():
        tick()
    drain_tasks()

    assert mail.outbox == []
    assert not Notice.objects.filter(mail_due_at__isnull=False, mailed_at__isnull=True).exists()


# The worker opens its own connection: on PostgreSQL it must see committed data.
@pytest.mark.django_db(transaction=True)
def test_staff_who_ask_for_mail_get_it_and_the_api_sets_the_choice(client, drain_tasks):
    agent = f.staff(Role.AGENT)
    agent.email = "a1@example.com"
    agent.save()
    client.force_login(agent)
    assert client.get("/api/notices/preferences").json() == {"email_notices": False, "language": "zh-hans"}
    answer = client.put(
        "/api/notices/preferences", {"email_notices": True, "language": "en"}, content_type="application/json"
    )
    assert answer.json() == {"email_notices": True, "language": "en"}
    assert (
        client.put(
            "/api/notices/preferences",
            {"email_notices": 1, "language": "en"},
            content_type="application/json",
        ).status_code
        == 422
    )
    notify(agent, Sentence("承诺即将到期"))

    with after_the_window():
        tick()
    drain_tasks()

    assert [m.to for m in mail.outbox] == [["a1@example.com"]]


def test_mail_speaks_the_language_the_user_chose():
    reader = buyer_with_email("english", language="en")
    notice = notify(reader, Sentence("充值成功：¥%(amt)s 已到账。", amt="20.00"), link="/wallet/")

    message = compose(reader, [notice])

    assert "Top-up successful: ¥20.00 has been credited." in message.body
    assert "充值成功" not in message.body
    zhong = buyer_with_email("zhong")
    chinese = compose(zhong, [notify(zhong, Sentence("充值成功：¥%(amt)s 已到账。", amt="1"))])
    assert "充值成功：¥1 已到账。" in chinese.body and chinese.subject.startswith("卡盟通知")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# The worker opens its own connection: on PostgreSQL it must see committed data.
@pytest.mark.django_db(transaction=True)
def test_a_failed_send_is_retried_and_goes_out_once_through_a_real_smtp_server(settings, drain_tasks):
    buyer = buyer_with_email("smtpbuyer")
    notice = notify(buyer, Sentence("退款已到账"), link="/wallet/")
    port = free_port()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", port, False
    settings.EMAIL_TIMEOUT = 5

    with after_the_window():
        tick()  # nobody listens on the port yet: the send fails and waits to be retried
    drain_tasks()
    notice.refresh_from_db()
    assert notice.mailed_at is None and notice.mail_attempts == 1
    assert notice.mail_due_at > timezone.now()

    class Inbox:
        def __init__(self):
            self.received = []

        async def handle_DATA(self, server, session, envelope):
            self.received.append(envelope)
            return "250 OK"

    inbox = Inbox()
    server = Controller(inbox, hostname="127.0.0.1", port=port)
    server.start()
    try:
        with freeze_time(timezone.now() + timedelta(minutes=5)):
            tick()
        drain_tasks()
        with freeze_time(timezone.now() + timedelta(minutes=30)):
            tick()
        drain_tasks()
    finally:
        server.stop()

    assert len(inbox.received) == 1
    envelope = inbox.received[0]
    assert envelope.rcpt_tos == ["smtpbuyer@example.com"]
    message = message_from_bytes(envelope.content)
    assert "退款已到账" in str(make_header(decode_header(message["Subject"])))
    assert "退款已到账" in message.get_payload(decode=True).decode(message.get_content_charset())
    notice.refresh_from_db()
    assert notice.mailed_at is not None


# --- reminders ----------------------------------------------------------------------------------------


def case_in_review_held_by(agent):
    buyer = f.buyer(balance=100_00)
    seller = f.seller()
    order = delivered_custom_order(buyer, price=100_00, seller=seller)
    case = submit_refund(
        order=order,
        actor=buyer,
        reason="not_as_described",
        demand="full_refund",
        evidence=evidence_for("not_as_described", "custom_service"),
    )
    case = seller_refuse(case_id=case.pk, seller_user=seller.owner, note="已交付", evidence=[screenshot("x")])
    assert case.stage == Stage.PLATFORM_REVIEW
    return claim(case_id=case.pk, agent=agent)


def test_the_holder_is_reminded_once_before_a_review_deadline_and_told_with_the_supervisor_when_missed():
    agent = f.staff(Role.AGENT)
    supervisor = f.staff(Role.SUPERVISOR)
    case = case_in_review_held_by(agent)
    timer = Timer.objects.get(case=case, kind=TimerKind.REVIEW, done_at__isnull=True)
    link = f"/refunds/staff/{case.pk}/"

    with freeze_time(timer.due_at - timedelta(hours=3)):
        tick()
    assert f.told(agent, "不足 2 小时") == 0
    with freeze_time(timer.due_at - timedelta(hours=1, minutes=50)):
        tick()
        tick()
    with freeze_time(timer.due_at - timedelta(minutes=5)):
        tick()
    assert f.told(agent, "不足 2 小时", link) == 1  # once, whatever the number of ticks
    assert f.told(supervisor, "不足 2 小时") == 0

    fire_timer(timer_id=timer.pk, now=timer.due_at + timedelta(seconds=1))
    fire_timer(timer_id=timer.pk, now=timer.due_at + timedelta(seconds=2))
    assert f.told(agent, "已超过处理时限", link) == 1
    assert f.told(supervisor, "已超过处理时限", link) == 1


def test_a_missed_promise_tells_its_agent_and_the_supervisors_once():
    from kameng.support import commitments, services

    buyer = f.buyer()
    agent = f.staff(Role.AGENT)
    supervisor = f.staff(Role.SUPERVISOR)
    conversation = services.conversation_for(buyer=buyer)
    _call, promise = commitments.log_call(
        conversation_id=conversation.pk,
        agent=agent,
        direction="out",
        number="13800000000",
        summary="回访",
        promise="周五前退款",
        due=timezone.now() + timedelta(hours=1),
    )

    for minutes in (40, 45, 61, 62, 90):
        with freeze_time(timezone.now() + timedelta(minutes=minutes)):
            tick()

    assert f.told(agent, "承诺即将到期") == 1
    assert f.told(agent, "承诺已逾期") == 1
    assert f.told(supervisor, "承诺已逾期") == 1
    assert sum("已逾期" in m.text for m in promise.conversation.messages.all()) == 1


# --- races (PostgreSQL row locks and the unique key) --------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_workers_sending_one_users_mail_at_once_send_each_notice_once(on_postgres):
    buyer = buyer_with_email("racer")
    notify_many([Notification(buyer.pk, Sentence("通知 %(n)d", n=i)) for i in range(3)])

    results = at_once(8, lambda i: send_notice_mail(user_id=buyer.pk))

    assert sorted(value for _outcome, value in results) == [0] * 7 + [3]
    assert len(mail.outbox) == 1
    assert not Notice.objects.filter(mailed_at__isnull=True).exists()


@pytest.mark.django_db(transaction=True)
def test_ticks_reminding_at_once_write_one_reminder(on_postgres):
    agent = f.staff(Role.AGENT)
    case = case_in_review_held_by(agent)
    timer = Timer.objects.get(case=case, kind=TimerKind.REVIEW, done_at__isnull=True)

    results = at_once(8, lambda i: remind_due_soon(timer.due_at - timedelta(hours=1)))

    assert [outcome for outcome, _value in results] == ["ok"] * 8
    assert f.told(agent, "不足 2 小时") == 1
