"""Complaints on a case's timeline: about the handling (投诉, kept by kameng.casefile, which calls
these inside its own transaction; filed and answered, each is an event), and those the buyer made to
the payment channel (WeChat Pay, Alipay; kept by kameng.support.paychannel), so whoever holds the
case sees that the channel's clock runs too."""

from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext_noop

from kameng.sentences import Sentence

from ..models import EventKind, RefundCase
from .common import lock_case


def record_complaint(
    *, case_id: int, actor, complaint_id: int, source: str, due: datetime, clause: str
) -> None:
    change = lock_case(case_id)
    change.event(
        EventKind.COMPLAINED,
        actor=actor,
        clause=clause,
        complaint=complaint_id,
        source=source,
        due=due.isoformat(),
    )
    change.save()


def record_complaint_answer(*, case_id: int, actor, complaint_id: int, answer: str) -> None:
    change = lock_case(case_id)
    change.event(EventKind.COMPLAINT_ANSWERED, actor=actor, complaint=complaint_id, answer=answer)
    change.notify(
        change.case.buyer_id,
        Sentence(gettext_noop("您对退款申请 #%(id)d 的投诉已有主管答复。"), id=change.case.pk),
    )
    change.save()


@transaction.atomic
def note_channel_complaint(
    *, case_id: int, channel: str, channel_label: str, complaint_id: str, amount: int
) -> RefundCase:
    """Append the complaint to the case's events (the order lock, then the case lock).
    `channel_label` is the channel's name as source text (translated when the timeline is read)."""
    change = lock_case(case_id)
    change.event(
        EventKind.CHANNEL_COMPLAINT,
        channel=channel,
        channel_label=channel_label,
        complaint_id=complaint_id,
        amount=amount,
    )
    change.save()
    return change.case
