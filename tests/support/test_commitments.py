"""Phone calls and promises (issue 15, item 6): a call is logged in the buyer's conversation; a
promise made in it is a commitment the buyer sees, reminded before it is due and escalated to a
supervisor when missed; a buyer's booked call-back is a commitment too."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone
from freezegun import freeze_time

from kameng.accounts.models import Role
from kameng.ops.tick import tick
from kameng.support import commitments, services
from kameng.support.models import Call, Commitment
from tests import factories as f

pytestmark = pytest.mark.django_db


def local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def test_a_promise_on_the_phone_is_shown_reminded_once_and_escalated_when_missed(client):
    buyer = f.buyer()
    agent = f.staff(Role.AGENT, agent_no="1001")
    supervisor = f.staff(Role.SUPERVISOR)
    conversation = services.conversation_for(buyer=buyer)
    due = timezone.now() + timedelta(hours=2)

    client.force_login(agent)
    response = client.post(
        f"/support/staff/c/{conversation.pk}/",
        {
            "action": "call",
            "direction": "in",
            "number": "13800000000",
            "summary": "买家来电询问代练进度",
            "promise": "18:00 前回电",
            "due_at": timezone.localtime(due).strftime("%Y-%m-%dT%H:%M"),
        },
    )

    assert response.status_code == 302
    call = Call.objects.get(conversation=conversation)
    commitment = Commitment.objects.get(conversation=conversation)
    assert (call.agent, call.direction, commitment.state) == (agent, "in", Commitment.State.OPEN)
    client.force_login(buyer)
    page = client.get(f"/support/c/{conversation.pk}/").content.decode()
    assert "买家来电询问代练进度" in page and "18:00 前回电" in page and local(commitment.due_at) in page

    with freeze_time(commitment.due_at - timedelta(minutes=29)):
        tick()
        tick()
    assert f.told(agent, "承诺即将到期") == 1  # reminded once, not every tick
    with freeze_time(commitment.due_at + timedelta(minutes=1)):
        tick()
    commitment.refresh_from_db()
    assert commitment.state == Commitment.State.MISSED
    assert f.told(supervisor, "承诺已逾期") == 1
    assert "已逾期，已通知客服主管督办" in client.get(f"/support/c/{conversation.pk}/").content.decode()


def test_a_kept_promise_is_never_escalated():
    buyer, agent, supervisor = f.buyer(), f.staff(Role.AGENT), f.staff(Role.SUPERVISOR)
    conversation = services.conversation_for(buyer=buyer)
    _call, commitment = commitments.log_call(
        conversation_id=conversation.pk,
        agent=agent,
        direction="out",
        number="13800000000",
        summary="回电说明进度",
        promise="周五前退款",
        due=timezone.now() + timedelta(days=1),
    )

    commitments.keep(conversation_id=conversation.pk, commitment_id=commitment.pk, agent=agent)
    with freeze_time(timezone.now() + timedelta(days=2)):
        tick()

    commitment.refresh_from_db()
    assert commitment.state == Commitment.State.KEPT
    assert not f.told(supervisor, "承诺已逾期")


def test_a_promise_in_working_days_skips_the_weekend():
    with freeze_time(timezone.make_aware(datetime(2026, 12, 4, 10, 0))):  # a Friday
        due = commitments.due_from(working_days=1)
    assert timezone.localtime(due).date().isoformat() == "2026-12-07"  # the Monday


def test_a_buyer_books_a_call_back_which_the_queue_is_reminded_of(client):
    buyer, agent = f.buyer(), f.staff(Role.AGENT)
    conversation = services.conversation_for(buyer=buyer)
    at = timezone.localtime(timezone.now() + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M")
    client.force_login(buyer)

    response = client.post(
        f"/support/c/{conversation.pk}/", {"action": "callback", "at": at, "phone": "13900000000"}
    )
    again = client.post(
        f"/support/c/{conversation.pk}/", {"action": "callback", "at": at, "phone": "13900000000"}
    )

    assert response.status_code == 302
    assert again.status_code == 200 and "已有一个待回电的预约" in again.content.decode()
    booked = Commitment.objects.get(conversation=conversation)
    assert (booked.kind, booked.phone, booked.agent) == (Commitment.Kind.CALLBACK, "13900000000", None)
    with freeze_time(booked.due_at - timedelta(minutes=10)):
        tick()
    assert f.told(agent, "承诺即将到期") == 1


def test_bad_call_logs_are_refused_next_to_the_field_and_lose_nothing(client):
    buyer, agent = f.buyer(), f.staff(Role.AGENT)
    conversation = services.conversation_for(buyer=buyer)
    client.force_login(agent)

    no_due = client.post(
        f"/support/staff/c/{conversation.pk}/",
        {"action": "call", "direction": "in", "number": "138", "summary": "说好回电", "promise": "回电"},
    )
    past = client.post(
        f"/support/staff/c/{conversation.pk}/",
        {
            "action": "call",
            "direction": "in",
            "number": "138",
            "summary": "说好回电",
            "promise": "回电",
            "due_at": "2020-01-01T10:00",
        },
    )
    bad_keep = client.post(f"/support/staff/c/{conversation.pk}/", {"action": "keep", "commitment": "x"})

    assert no_due.status_code == 200 and "请填写最晚时间或工作日数" in no_due.content.decode()
    assert "说好回电" in no_due.content.decode()  # what was typed is still there
    assert past.status_code == 200 and "必须晚于现在" in past.content.decode()
    assert bad_keep.status_code == 302
    assert not Call.objects.exists() and not Commitment.objects.exists()
