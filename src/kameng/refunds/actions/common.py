"""What every refund action shares: the lock, the change being recorded, stage moves and timers.

Lock order everywhere: the order row, then the case row. Delivery (orders.services) takes the same
order lock, so a refund and a delivery of one order are decided one after the other.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from kameng.accounts.services import Notification, notify_many
from kameng.evidence.models import Event
from kameng.evidence.services import EMPTY_HEAD, head_of, new_event, save_events
from kameng.orders import aftersales
from kameng.orders.aftersales import OrderFacts, Refundable
from kameng.orders.models import Order
from kameng.orders.services import lock_order
from kameng.sentences import Sentence, stored
from kameng.workdays.calendar import deadline as compute_deadline

from ..models import EventKind, Holder, RefundCase, Stage, Timer, TimerKind
from ..stages import CLOSED, can_move


class RefundError(Exception):
    """A request the engine refuses; the message is for the person, in their language."""


class NotFound(RefundError):
    """The order or case does not exist for this person (answered like a missing one: 404)."""


@dataclass
class CaseChange:
    """One action's change to one case, made while holding the order lock and the case lock.

    The case row is written once, by `save()`, which every action calls last. Events are chained
    in memory (the case lock keeps the chain head ours) and written with the action's new timers
    and notices in one statement each. `created` says the case was filed in this transaction, so
    it has no events, timers or payouts yet and none need reading or superseding.
    """

    case: RefundCase
    order: Order
    created: bool = False
    now: datetime = field(default_factory=timezone.now)
    events: list[Event] = field(default_factory=list)
    timers: list[Timer] = field(default_factory=list)
    notices: list[Notification] = field(default_factory=list)
    head: tuple[int, str] | None = None
    timers_superseded: bool = False
    facts_now: OrderFacts | None = None

    def event(self, kind: EventKind, *, actor=None, clause: str = "", **data) -> None:
        if self.head is None:
            self.head = EMPTY_HEAD if self.created else head_of(self.case.stream)
        event = new_event(
            stream=self.case.stream,
            kind=kind,
            head=self.head,
            actor=actor,
            actor_label=actor_label(actor),
            data=data,
            clause=clause,
            at=self.now,
        )
        self.events.append(event)
        self.head = (event.seq, event.hash)

    def notify(self, user_id: int | None, text: Sentence, link: str = "") -> None:
        if user_id is not None:
            self.notices.append(Notification(user_id, text, link or buyer_link(self.case)))

    def add_timer(self, kind: TimerKind, due: datetime, stage: str | None = None) -> None:
        self.timers.append(Timer(case=self.case, kind=kind, stage=stage or self.case.stage, due_at=due))

    def supersede_timers(self) -> None:
        """The case moves on: the timers of where it was stop counting."""
        self.timers.clear()
        if not self.created and not self.timers_superseded:
            Timer.objects.filter(case=self.case, done_at__isnull=True).update(
                done_at=self.now, outcome="superseded"
            )
        self.timers_superseded = True

    def facts(self) -> OrderFacts:
        """The order's facts, read once under the order lock; a change that moves money calls
        `money_moved()`, so that the next ask reads them again."""
        if self.facts_now is None:
            self.facts_now = aftersales.read_facts(self.order)
        return self.facts_now

    def refundable(self) -> Refundable:
        return self.facts().refundable

    def money_moved(self) -> None:
        self.facts_now = None

    def save(self) -> None:
        self.case.save()
        save_events(self.events)
        Timer.objects.bulk_create(self.timers)
        notify_many(self.notices)
        self.events, self.timers, self.notices = [], [], []
        self.timers_superseded = False


# How much a person may write in one field; the form says the same (maxlength).
LONG_TEXT = 5000  # a request's description and statement, the buyer's material
NOTE = 2000  # notes and reasons from sellers and staff, an appeal


def check_length(text: str, limit: int) -> str:
    """`text` stripped, or a refusal that names the limit: nothing is ever cut silently."""
    text = text.strip()
    if len(text) > limit:
        raise RefundError(
            _("内容最多 %(n)d 字，现在是 %(m)d 字，请删减后再提交（已填写的内容没有保存）。")
            % {"n": limit, "m": len(text)}
        )
    return text


def may(check, *args) -> bool:
    """Whether a `check_…` rule passes, for a page deciding which actions to offer."""
    try:
        check(*args)
    except RefundError:
        return False
    return True


def actor_label(actor) -> str:
    """How the event log names an actor who has no account of their own in the chain's text."""
    if actor is None:
        return "系统"
    if actor.agent_no:
        return f"客服 {actor.agent_no}"
    return ""


def buyer_link(case: RefundCase) -> str:
    return f"/refunds/{case.pk}/"


def lock_case(case_id: int) -> CaseChange:
    """Lock the order, then the case (the order first, always), and start a change of the case."""
    order_id = RefundCase.objects.filter(pk=case_id).values_list("order_id", flat=True).first()
    if order_id is None:
        raise RefundError(_("退款申请不存在。"))
    order = lock_order(order_id)
    case = (
        RefundCase.objects.select_for_update(of=("self",)).select_related("seller", "buyer").get(pk=case_id)
    )
    return CaseChange(case=case, order=order)


def deadline_in(
    *,
    hours: float | None = None,
    working_days: int | None = None,
    days: int | None = None,
    start: datetime | None = None,
) -> datetime:
    """A deadline from `start` (now): on the clock for hours and days, on the working calendar
    for working days. Stored and answered in UTC (pages show it in Asia/Shanghai)."""
    start = start or timezone.now()
    if working_days is not None:
        due = compute_deadline(start, working_days, "working_days")
    else:
        due = compute_deadline(start, days * 24 if days is not None else hours, "hours")
    return due.astimezone(UTC)


def move(
    change: CaseChange,
    target: Stage,
    *,
    holder: Holder,
    reason: Sentence,
    actor=None,
    holder_user=None,
    due: datetime | None = None,
    due_kind: TimerKind | None = None,
    due_action: Sentence | str = "",
    clause: str = "",
) -> None:
    """Move the case to `target` (one of `stages.TRANSITIONS`), with who holds it, why, until
    when and what happens then; the timers of the stage it leaves stop. The reason and the
    deadline's consequence are sentences, kept as data and shown in the reader's language."""
    case = change.case
    if not can_move(case.stage, target):
        raise RefundError(_("当前阶段（%(s)s）不能执行该操作。") % {"s": case.get_stage_display()})
    change.supersede_timers()
    previous = case.stage
    case.stage = target
    case.holder = holder
    case.holder_user = holder_user
    case.stage_reason = stored(reason)
    case.deadline_at = due
    case.deadline_action = stored(due_action) if due else ""
    case.is_open = target not in CLOSED
    if not case.is_open:
        case.closed_at = change.now
    if due:
        change.add_timer(due_kind, due)
    change.event(
        EventKind.STAGE_CHANGED,
        actor=actor,
        clause=clause,
        **{
            "from": previous,
            "to": target,
            "holder": holder,
            "holder_user": holder_user.agent_no if holder_user is not None and holder_user.agent_no else None,
            "deadline": due.isoformat() if due else None,
            "reason": case.stage_reason,
            "if_no_action": case.deadline_action,
        },
    )


def set_deadline(
    change: CaseChange, *, kind: TimerKind, due: datetime, action: Sentence, reason: Sentence | None = None
) -> None:
    """A new deadline within the same stage (an offer to answer, an escalation, money on its way)."""
    case = change.case
    change.supersede_timers()
    case.deadline_at = due
    case.deadline_action = stored(action)
    if reason is not None:
        case.stage_reason = stored(reason)
    change.add_timer(kind, due)
