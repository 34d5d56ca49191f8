"""How long a buyer will wait for a person, shown before the chat starts and when they join the line.

Model: a moving average. The handling time is the mean time from claim to close of the last
`SAMPLE` conversations closed in the past week (DEFAULT_HANDLE_MINUTES until there are any); the
agents on duty are those online and seen in the last ten minutes. The estimate for place `n` is
`n × handling time ÷ agents`. It is checked against what actually happened by `bench/wait_replay.py`,
which replays a simulated day. Peaks are named: an active promotion (admin list), a day off on the
working calendar, or a long line; quieter hours are the two with the fewest requests in the past
two weeks.
"""

import math
from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import Count
from django.db.models.functions import ExtractHour
from django.utils import timezone
from django.utils.translation import gettext_noop

from kameng.sentences import Sentence
from kameng.workdays.calendar import is_workday, to_local

from .models import Conversation, ConversationState, Presence, Promotion

SAMPLE = 30
DEFAULT_HANDLE_MINUTES = 6.0
LONG_LINE = 10
ONLINE_WINDOW = timedelta(minutes=10)
# Hours a person can reach an agent (local time); quieter hours are suggested among these.
OPEN_HOURS = range(9, 22)


@dataclass
class Wait:
    position: int
    agents_online: int
    handle_minutes: float
    minutes: int | None  # None: nobody on duty now
    peak: Sentence | None = None
    quiet_hours: list[str] = field(default_factory=list)

    def sentence(self) -> Sentence:
        if self.minutes is None:
            return Sentence(
                gettext_noop(
                    "已为您转人工，您排在第 %(p)d 位。当前没有客服在线，上线后会按顺序接待；您也可以直接留言或发邮件。"
                ),
                p=self.position,
            )
        return Sentence(
            gettext_noop("已为您转人工，您排在第 %(p)d 位，预计等待约 %(m)d 分钟（%(a)d 位客服在线）。"),
            p=self.position,
            m=self.minutes,
            a=self.agents_online,
        )


def agents_online(now=None) -> int:
    now = now or timezone.now()
    return Presence.objects.filter(status=Presence.Status.ONLINE, seen_at__gte=now - ONLINE_WINDOW).count()


def handle_minutes(now=None) -> float:
    now = now or timezone.now()
    recent = list(
        Conversation.objects.filter(closed_at__gte=now - timedelta(days=7), claimed_at__isnull=False)
        .order_by("-closed_at")
        .values_list("claimed_at", "closed_at")[:SAMPLE]
    )
    spans = [(closed - claimed).total_seconds() / 60 for claimed, closed in recent if closed > claimed]
    return sum(spans) / len(spans) if spans else DEFAULT_HANDLE_MINUTES


def position_of(conversation: Conversation | None) -> int:
    """Place in line: 1 + everyone queued before (or, before joining, everyone queued now)."""
    queued = Conversation.objects.filter(state=ConversationState.QUEUED)
    if conversation is not None and conversation.state == ConversationState.QUEUED and conversation.queued_at:
        return queued.filter(queued_at__lt=conversation.queued_at).exclude(pk=conversation.pk).count() + 1
    return queued.count() + 1


def peak(now, position: int) -> Sentence | None:
    promotion = Promotion.objects.filter(starts_at__lte=now, ends_at__gt=now).first()
    if promotion is not None:
        return Sentence(gettext_noop("促销活动“%(n)s”进行中，咨询较多，等待时间可能较长。"), n=promotion.name)
    if not is_workday(to_local(now).date()):
        return Sentence(gettext_noop("今天是节假日，咨询较多，等待时间可能较长。"))
    if position > LONG_LINE:
        return Sentence(gettext_noop("当前排队人数较多，等待时间可能较长。"))
    return None


def quiet_hours(now) -> list[str]:
    counts = dict(
        Conversation.objects.filter(queued_at__gte=now - timedelta(days=14))
        .annotate(hour=ExtractHour("queued_at", tzinfo=timezone.get_current_timezone()))
        .values("hour")
        .annotate(n=Count("id"))
        .values_list("hour", "n")
    )
    if not counts:
        return []
    ranked = sorted(OPEN_HOURS, key=lambda h: (counts.get(h, 0), h))[:2]
    return [f"{h:02d}:00–{h + 1:02d}:00" for h in sorted(ranked)]


def estimate(conversation: Conversation | None = None, now=None) -> Wait:
    now = now or timezone.now()
    position = position_of(conversation)
    agents = agents_online(now)
    handle = handle_minutes(now)
    minutes = math.ceil(position * handle / agents) if agents else None
    wait = Wait(position=position, agents_online=agents, handle_minutes=handle, minutes=minutes)
    wait.peak = peak(now, position)
    if wait.peak is not None or minutes is None or minutes > 15:
        wait.quiet_hours = quiet_hours(now)
    return wait
