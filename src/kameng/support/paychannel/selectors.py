"""Reads of payment-channel complaints for the staff list, the conversation panel and the API,
with the time left to each of the channel's deadlines."""

from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..models import ChannelComplaint

S = ChannelComplaint.State
STATE_FILTERS = [
    ("", gettext_lazy("未完结")),
    ("completed", gettext_lazy("已完结")),
    ("all", gettext_lazy("全部")),
]


def complaints(*, state: str = ""):
    qs = ChannelComplaint.objects.select_related("order", "conversation__buyer", "case")
    if state == "completed":
        return qs.filter(state=S.COMPLETED).order_by("-completed_at", "-id")
    if state == "all":
        return qs.order_by("-id")
    return qs.exclude(state=S.COMPLETED).order_by("first_reply_due", "id")


def time_left(deadline: datetime, now: datetime) -> str:
    """ "还剩 3 小时 20 分" or "已超时 1 小时 5 分", to the minute."""
    seconds = int((deadline - now).total_seconds())
    minutes = abs(seconds) // 60
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    span = (_("%(d)d 天 ") % {"d": days} if days else "") + _("%(h)d 小时 %(m)d 分") % {"h": hours, "m": mins}
    return (_("还剩 %(t)s") if seconds >= 0 else _("已超时 %(t)s")) % {"t": span}


@dataclass
class Row:
    complaint: ChannelComplaint
    first_reply_left: str
    first_reply_late: bool
    resolve_left: str
    resolve_late: bool


def rows(found, *, now: datetime) -> list[Row]:
    out = []
    for c in found:
        done = c.state == S.COMPLETED
        first_done = c.replied_at is not None or done
        out.append(
            Row(
                complaint=c,
                first_reply_left="" if first_done else time_left(c.first_reply_due, now),
                first_reply_late=not first_done and c.first_reply_due <= now,
                resolve_left="" if done else time_left(c.resolve_due, now),
                resolve_late=not done and c.resolve_due <= now,
            )
        )
    return out
