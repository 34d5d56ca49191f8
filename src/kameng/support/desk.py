"""The agent's desk (SPEC §8): one queue of everything waiting for staff, ordered by urgency; taking
the next conversation; handing a conversation to another department with a reason.

The queue holds four kinds of item, each read with one query (joins, no per-row query), at most
`PER_SOURCE` of each, then scored and sorted in Python by `urgency()`:
- waiting: conversations queued for a person (deadline: `ANSWER_TARGET` after joining the line, or
  the department's answer time after a transfer);
- held: conversations an agent holds (deadline: `ANSWER_TARGET` after the buyer's last unanswered
  message; none when the agent spoke last);
- commitment: open promises and booked call-backs (deadline: due_at);
- case: open refund cases an agent, supervisor, finance or tech holds (deadline: the stage's).
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from kameng.accounts.models import Role
from kameng.catalog.models import GoodsKind
from kameng.refunds import selectors as refund_selectors
from kameng.refunds.actions.common import may
from kameng.refunds.actions.review import check_transfer
from kameng.refunds.models import Channel as CaseChannel
from kameng.refunds.models import Holder
from kameng.refunds.services import RefundError
from kameng.refunds.services import transfer as transfer_case
from kameng.sentences import Sentence, label_of

from . import routing, services
from .models import AuthorKind, Channel, Commitment, Conversation, ConversationState, Department, Message
from .services import SupportError, lock_conversation, may_answer, system_message

S = ConversationState
PER_SOURCE = 200
# A buyer who asked for a person should have one within this time: the conversation's deadline.
ANSWER_TARGET = timedelta(minutes=3)
# When the buyer can expect an answer after a transfer (told to them, and the department's deadline).
DEPARTMENT_ANSWER = {
    Department.TECH: timedelta(hours=24),
    Department.SELLER_RELATIONS: timedelta(hours=24),
    Department.FINANCE: timedelta(hours=24),
    Department.SUPERVISOR: timedelta(hours=2),
}
# The refund case's holder a department stands for (商家对接 has none: a case waits for the seller
# through its own stages, so that transfer stays on the conversation).
DEPARTMENT_HOLDER = {
    Department.TECH: Holder.TECH,
    Department.FINANCE: Holder.FINANCE,
    Department.SUPERVISOR: Holder.SUPERVISOR,
}
STAFF_HOLDERS = (Holder.AGENT, Holder.TECH, Holder.FINANCE, Holder.SUPERVISOR)
# A case's own channel, read as the conversation channel filter means it.
CASE_CHANNELS = {
    Channel.WEB: [CaseChannel.WEB, CaseChannel.API, CaseChannel.CHAT],
    Channel.EMAIL: [CaseChannel.EMAIL],
    Channel.PHONE: [CaseChannel.PHONE],
    Channel.WECHAT: [],
    Channel.SYSTEM: [CaseChannel.SYSTEM],
}
KINDS = ("waiting", "held", "commitment", "case")

# The weights of urgency(), in minutes of slack.
NO_DEADLINE = timedelta(days=7)
URGENT_MINUTES = 60
MINUTES_PER_TENFOLD = 15
AMOUNT_FLOOR = 100_00  # 分: amounts up to ¥100 earn nothing
WAITED_DIVISOR = 10


def urgency(*, deadline: datetime | None, amount: int, urgent: bool, since: datetime, now: datetime) -> float:
    """Minutes of slack an item has; the lower, the sooner it must be handled (the queue's order).

    - the time left to its deadline (overdue: negative, the most overdue first; none: a week, so
      items without a deadline come after nearly all with one);
    - an urgent mark (紧急 mail subject, payment-channel complaint) takes off 60 minutes;
    - money: every tenfold above ¥100 takes off 15 minutes (¥1,000: 15, ¥10,000: 30);
    - waiting: every 10 minutes waited takes off one, so of two equal items the older goes first.
    """
    slack = (deadline - now if deadline is not None else NO_DEADLINE).total_seconds() / 60
    if urgent:
        slack -= URGENT_MINUTES
    if amount > AMOUNT_FLOOR:
        slack -= MINUTES_PER_TENFOLD * math.log10(amount / AMOUNT_FLOOR)
    slack -= max((now - since).total_seconds(), 0) / 60 / WAITED_DIVISOR
    return slack


@dataclass
class Filters:
    """What the queue is narrowed to; each value is checked (anything unknown is ignored)."""

    channel: str = ""
    goods_kind: str = ""
    seller: int | None = None
    state: str = ""
    department: str = ""
    mine: bool = False

    @classmethod
    def parse(cls, data) -> "Filters":
        seller = str(data.get("seller", "") or "")
        return cls(
            channel=_known(data.get("channel"), Channel.values),
            goods_kind=_known(data.get("goods_kind"), GoodsKind.values),
            seller=int(seller) if seller.isdigit() and len(seller) < 18 else None,
            state=_known(data.get("state"), KINDS),
            department=_known(data.get("department"), Department.values),
            mine=str(data.get("mine", "")) in ("1", "true", "on"),
        )


def _known(value, allowed) -> str:
    value = str(value or "")
    return value if value in allowed else ""


@dataclass
class Item:
    kind: str  # waiting | held | commitment | case
    pk: int
    conversation_id: int | None
    case_id: int | None
    title: str
    buyer: str
    order_no: str
    goods_kind: str
    amount: int
    deadline: datetime | None
    since: datetime
    urgent: bool
    channel: str
    department: str
    holder: str
    score: float = 0.0

    @property
    def url(self) -> str:
        if self.kind == "case":
            return f"/refunds/staff/{self.case_id}/"
        return f"/support/staff/c/{self.conversation_id}/"

    @property
    def overdue(self) -> bool:
        return self.deadline is not None and self.deadline <= timezone.now()

    @property
    def time_left(self) -> str:
        return refund_selectors.time_left(self.deadline)


def _last_spoke(ref: str = "pk"):
    return Subquery(
        Message.objects.filter(conversation=OuterRef(ref), internal=False)
        .exclude(author_kind=AuthorKind.SYSTEM)
        .order_by("-id")
        .values("author_kind")[:1]
    )


def _conversation_filters(f: Filters, prefix: str = "") -> Q:
    q = Q()
    if f.channel:
        q &= Q(via=f.channel)
    if f.goods_kind:
        q &= Q(**{f"{prefix}order__kind": f.goods_kind})
    if f.seller is not None:
        q &= Q(**{f"{prefix}order__seller_id": f.seller})
    if f.department:
        q &= Q(**{f"{prefix}department": f.department})
    return q


def _conversations(f: Filters, user, now: datetime) -> list[Item]:
    states = {"waiting": [S.QUEUED], "held": [S.WITH_AGENT]}.get(f.state, [S.QUEUED, S.WITH_AGENT])
    qs = (
        Conversation.objects.filter(state__in=states)
        .select_related("buyer", "order", "agent")
        .annotate(via=Coalesce(routing.buyer_channel(), Value(Channel.WEB)), last_spoke=_last_spoke())
        .filter(_conversation_filters(f))
    )
    if f.mine:
        qs = qs.filter(agent=user)
    items = []
    for c in qs.order_by("-urgent", F("queued_at").asc(nulls_last=True), "id")[:PER_SOURCE]:
        waiting = c.state == S.QUEUED
        if waiting and c.department and c.transferred_at:
            deadline = c.transferred_at + DEPARTMENT_ANSWER[c.department]
        elif waiting:
            deadline = (c.queued_at or c.created_at) + ANSWER_TARGET
        elif c.last_spoke == AuthorKind.BUYER and c.last_message_at:
            deadline = c.last_message_at + ANSWER_TARGET
        else:
            deadline = None
        items.append(
            Item(
                kind="waiting" if waiting else "held",
                pk=c.pk,
                conversation_id=c.pk,
                case_id=None,
                title=_("会话 #%(pk)s") % {"pk": c.pk},
                buyer=str(c.buyer),
                order_no=c.order.no if c.order_id else "",
                goods_kind=str(c.order.get_kind_display()) if c.order_id else "",
                amount=c.order.amount if c.order_id else 0,
                deadline=deadline,
                since=c.queued_at or c.created_at,
                urgent=c.urgent,
                channel=str(Channel(c.via).label) if c.via in Channel.values else c.via,
                department=str(c.get_department_display()),
                holder=(c.agent.agent_no or str(c.agent)) if c.agent_id else "",
            )
        )
    return items


def _commitments(f: Filters, user, now: datetime) -> list[Item]:
    qs = (
        Commitment.objects.filter(state=Commitment.State.OPEN)
        .select_related("conversation", "conversation__buyer", "conversation__order", "agent")
        .annotate(via=Coalesce(routing.buyer_channel("conversation_id"), Value(Channel.WEB)))
        .filter(_conversation_filters(f, prefix="conversation__"))
    )
    if f.mine:
        qs = qs.filter(Q(agent=user) | Q(agent__isnull=True, conversation__agent=user))
    items = []
    for m in qs.order_by("due_at", "id")[:PER_SOURCE]:
        c = m.conversation
        items.append(
            Item(
                kind="commitment",
                pk=m.pk,
                conversation_id=c.pk,
                case_id=None,
                title=f"{m.get_kind_display()}：{m.text}" + (f"（{m.phone}）" if m.phone else ""),
                buyer=str(c.buyer),
                order_no=c.order.no if c.order_id else "",
                goods_kind=str(c.order.get_kind_display()) if c.order_id else "",
                amount=c.order.amount if c.order_id else 0,
                deadline=m.due_at,
                since=m.created_at,
                urgent=c.urgent,
                channel=str(Channel(m.via).label) if m.via in Channel.values else m.via,
                department=str(c.get_department_display()),
                holder=(m.agent.agent_no or str(m.agent)) if m.agent_id else "",
            )
        )
    return items


def _cases(f: Filters, user, now: datetime) -> list[Item]:
    qs = refund_selectors.cases().filter(is_open=True, holder__in=STAFF_HOLDERS)
    if f.channel:
        qs = qs.filter(channel__in=CASE_CHANNELS.get(f.channel, []))
    if f.goods_kind:
        qs = qs.filter(order__kind=f.goods_kind)
    if f.seller is not None:
        qs = qs.filter(seller_id=f.seller)
    if f.department:
        holder = DEPARTMENT_HOLDER.get(f.department)
        qs = qs.filter(holder=holder) if holder else qs.none()
    if f.mine:
        qs = qs.filter(holder_user=user)
    items = []
    for case in qs.order_by(F("deadline_at").asc(nulls_last=True), "-amount_requested", "id")[:PER_SOURCE]:
        items.append(
            Item(
                kind="case",
                pk=case.pk,
                conversation_id=None,
                case_id=case.pk,
                title=_("退款申请 #%(pk)s · %(stage)s") % {"pk": case.pk, "stage": case.get_stage_display()},
                buyer=str(case.buyer),
                order_no=case.order.no,
                goods_kind=str(case.order.get_kind_display()),
                amount=case.amount_requested,
                deadline=case.deadline_at,
                since=case.created_at,
                urgent=False,
                channel=str(case.get_channel_display()),
                department="",
                holder=refund_selectors.holder_label(case),
            )
        )
    return items


def queue(*, user, filters: Filters | None = None, now: datetime | None = None) -> list[Item]:
    """Everything waiting for staff that `filters` let through, the most urgent first (three queries)."""
    f = filters or Filters()
    now = now or timezone.now()
    items: list[Item] = []
    if f.state in ("", "waiting", "held"):
        items += _conversations(f, user, now)
    if f.state in ("", "commitment"):
        items += _commitments(f, user, now)
    if f.state in ("", "case"):
        items += _cases(f, user, now)
    for item in items:
        item.score = urgency(
            deadline=item.deadline, amount=item.amount, urgent=item.urgent, since=item.since, now=now
        )
    return sorted(items, key=lambda i: (i.score, KINDS.index(i.kind), i.pk))


# --- taking the next conversation -------------------------------------------------------------------

NEXT_BATCH = 20


@transaction.atomic
def assign_next(*, agent, now: datetime | None = None) -> Conversation | None:
    """Give `agent` the most urgent waiting conversation they have a skill for (any, if they have no
    skills); None when there is none. Two agents asking at once get different conversations: each
    candidate is locked with SKIP LOCKED, so the second agent passes over the one the first holds."""
    if not may_answer(agent):
        raise SupportError(_("只有客服可以接待会话。"))
    now = now or timezone.now()
    services.set_presence(agent=agent)  # locks the agent's presence row: their own cap holds too
    held = routing.loads([agent.pk]).get(agent.pk, 0)
    cap = routing.agent_cap()
    if held >= cap:
        raise SupportError(
            _("您正在处理 %(n)d 个会话（上限 %(cap)d 个），请先结束一些再接新的。") % {"n": held, "cap": cap}
        )
    skills = list(agent.skills.all())
    waiting = (
        Conversation.objects.annotate(via=Coalesce(routing.buyer_channel(), Value(Channel.WEB)))
        .filter(state=S.QUEUED, department="")
        .filter(routing.conversations_for_skills(skills))
        .exclude(buyer=agent)
    )
    candidates = list(waiting.select_related("order").order_by("-urgent", "queued_at", "id")[:NEXT_BATCH])

    def score(c: Conversation) -> float:
        since = c.queued_at or c.created_at
        amount = c.order.amount if c.order_id else 0
        return urgency(deadline=since + ANSWER_TARGET, amount=amount, urgent=c.urgent, since=since, now=now)

    # The most urgent first, each locked alone: one another agent is taking now is skipped, never
    # waited for, and one taken since it was read no longer matches the filter.
    for candidate in sorted(candidates, key=lambda c: (score(c), c.pk)):
        locked = (
            Conversation.objects.select_for_update(skip_locked=True)
            .filter(pk=candidate.pk, state=S.QUEUED, department="")
            .first()
        )
        if locked is not None:
            return services.claim(conversation_id=locked.pk, agent=agent)
    return None


# --- transfer ---------------------------------------------------------------------------------------

REASON_MAX = 200


def _local(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


@transaction.atomic
def transfer(*, conversation_id: int, agent, department: str, reason: str) -> Conversation:
    """Hand the conversation to a department with a reason the buyer reads ("已转交技术核实：…，预计 …").

    When the order has an open refund case the department can hold (tech, finance, supervisor) and
    the refund rules allow a transfer now, the case is transferred through refunds' own `transfer`,
    so it is a stage on the buyer's timeline; the conversation records the department either way and
    waits in that department's queue (the desk's department filter)."""
    if not may_answer(agent):
        raise SupportError(_("只有客服可以转交会话。"))
    if department not in Department.values:
        raise SupportError(_("请选择转交部门。"))
    reason = (reason or "").strip()
    if not reason:
        raise SupportError(_("转交需要写明原因。"))
    if len(reason) > REASON_MAX:
        raise SupportError(_("转交原因最多 %(n)d 字。") % {"n": REASON_MAX})
    conversation = lock_conversation(conversation_id)
    if conversation.buyer_id == agent.pk:
        raise SupportError(_("您是这个会话的买家，不能自己处理；请由其他客服处理。"))
    if conversation.state == S.CLOSED:
        raise SupportError(_("会话已结束。"))
    held_by_other = conversation.state == S.WITH_AGENT and conversation.agent_id not in (None, agent.pk)
    if held_by_other and not agent.has_role(Role.SUPERVISOR):
        raise SupportError(_("这个会话由其他客服处理。"))
    case = refund_selectors.open_case_for_order(conversation.order) if conversation.order_id else None
    holder = DEPARTMENT_HOLDER.get(department)
    if case is not None and holder is not None and may(check_transfer, case, agent):
        try:
            transfer_case(case_id=case.pk, agent=agent, to=holder, reason=reason)
        except RefundError as e:
            raise SupportError(str(e)) from e
    now = timezone.now()
    expected = now + DEPARTMENT_ANSWER[department]
    conversation.department, conversation.transfer_reason, conversation.transferred_at = (
        department,
        reason,
        now,
    )
    conversation.state, conversation.agent, conversation.queued_at = S.QUEUED, None, now
    system_message(
        conversation,
        Sentence(
            gettext_noop("已转交%(d)s：%(r)s，预计 %(t)s 前答复。"),
            d=label_of(Department(department)),
            r=reason,
            t=_local(expected),
        ),
    )
    conversation.last_message_at = now
    conversation.save()
    return conversation
