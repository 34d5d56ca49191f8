"""A complaint the buyer made to the payment channel (WeChat Pay, Alipay) about a case's order:
recorded on the case's timeline, so whoever holds the case sees that the channel's clock runs too.
The complaint itself lives in support (kameng.support.paychannel), above refunds."""

from django.db import transaction

from ..models import EventKind, RefundCase
from .common import lock_case


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
