"""Reminders to the staff holding a case (issue 15, item 9): a deadline of a stage staff hold is
near. Each reminder is a keyed notice (`deadline-soon:<timer>`), so repeated ticks write it once.
A deadline that passes is handled by its timer (actions/timers.py), which tells the holder and the
supervisors when it escalates."""

from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext_noop

from kameng.accounts.services import Notification, notify_many
from kameng.sentences import Sentence

from .models import Timer, TimerKind

REMIND_BEFORE = timedelta(hours=2)
BATCH = 500
# Deadlines a member of staff meets (the others are the buyer's, the seller's or the system's).
STAFF_DEADLINES = [TimerKind.REVIEW, TimerKind.FINANCE, TimerKind.APPEAL, TimerKind.ESCALATED]


def staff_link(case_id: int) -> str:
    return f"/refunds/staff/{case_id}/"


def remind_due_soon(now: datetime | None = None) -> int:
    """Tell each case's holder that its deadline is within REMIND_BEFORE; returns how many were
    due a reminder (written once each, whatever the number of ticks)."""
    now = now or timezone.now()
    timers = list(
        Timer.objects.filter(
            done_at__isnull=True,
            due_at__gt=now,
            due_at__lte=now + REMIND_BEFORE,
            kind__in=STAFF_DEADLINES,
            case__holder_user__isnull=False,
        )
        .select_related("case")
        .order_by("due_at")[:BATCH]
    )
    notices = [
        Notification(
            t.case.holder_user_id,
            Sentence(
                gettext_noop("退款申请 #%(id)d 的处理时限（%(t)s）不足 2 小时，请及时处理。"),
                id=t.case_id,
                t=timezone.localtime(t.due_at).strftime("%Y-%m-%d %H:%M"),
            ),
            staff_link(t.case_id),
            key=f"deadline-soon:{t.pk}",
        )
        for t in timers
        if t.stage == t.case.stage
    ]
    notify_many(notices)
    return len(notices)
