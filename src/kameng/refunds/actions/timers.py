"""What happens by itself when a timer is due: a missed deadline does what its clause says, a
supplier poll asks the supplier again. Each firing is idempotent: a fired, stale or superseded
timer does nothing."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop
from django_tasks import task

from kameng.accounts.models import Role, User
from kameng.sentences import Sentence

from .. import policy
from ..models import EventKind, Holder, RefundCase, Timer, TimerKind
from ..policy import ClauseNo
from ..signals import platform_deadline_missed
from ..verification import VerdictAction, verify
from .appeals import open_appeal_window
from .common import CaseChange, deadline_in, lock_case, set_deadline
from .filing import apply_verdict, schedule_supplier_poll, to_review
from .review import resume_review
from .seller import approve_as_asked


@transaction.atomic
def fire_timer(*, timer_id: int, now: datetime | None = None) -> str:
    """Fire one due timer; returns what happened (kept on the timer as its outcome)."""
    now = now or timezone.now()
    case_id = Timer.objects.filter(pk=timer_id).values_list("case_id", flat=True).first()
    if case_id is None:
        return "missing"
    change = lock_case(case_id)
    change.now = now
    timer = Timer.objects.select_for_update().get(pk=timer_id)
    if timer.done_at is not None:
        return "already"
    if timer.due_at > now:
        return "not due"
    if timer.stage != change.case.stage:
        outcome = "stale"
    elif timer.kind == TimerKind.SUPPLIER_POLL:
        outcome = _poll_supplier(change, reschedule=True)
    else:
        outcome = _deadline_passed(change, timer)
    change.save()
    Timer.objects.filter(pk=timer.pk).update(done_at=now, outcome=outcome)
    if outcome == "escalated":
        platform_deadline_missed.send(sender=RefundCase, case=change.case)
    return outcome


def _deadline_passed(change: CaseChange, timer: Timer) -> str:
    case, now = change.case, change.now
    change.event(EventKind.DEADLINE_PASSED, deadline_kind=timer.kind, due=timer.due_at.isoformat())
    if timer.kind == TimerKind.SELLER_ANSWER:
        open_appeal_window(change)  # the seller may contest an approval its silence decided
        approve_as_asked(
            change,
            actor=None,
            clause=policy.clause(ClauseNo.SELLER_ANSWER),
            reason=Sentence(gettext_noop("卖家逾期未处理，按第6条自动同意退款")),
        )
        return "auto-approved"
    if timer.kind == TimerKind.BUYER_OFFER:
        case.seller_offer = ""
        to_review(change, reason=Sentence(gettext_noop("买家逾期未回应卖家方案，转平台审核")))
        return "to review"
    if timer.kind == TimerKind.BUYER_INFO:
        resume_review(change, reason=Sentence(gettext_noop("买家逾期未补充材料，依第7条按现有材料处理")))
        return "decide on what is there"
    if timer.kind == TimerKind.SUPPLIER_ANSWER:
        to_review(change, reason=Sentence(gettext_noop("供应商逾期未答复充值结果，转技术核验")))
        case.holder = Holder.TECH
        return "to tech"
    if timer.kind == TimerKind.APPEAL_WINDOW:
        # Nobody holds a rejection once it can no longer be appealed.
        case.holder, case.deadline_at, case.deadline_action = Holder.NOBODY, None, ""
        change.event(EventKind.APPEAL_WINDOW_CLOSED)
        return "closed"
    if timer.kind == TimerKind.GATEWAY_REFUND:
        c8 = policy.clause(ClauseNo.LARGE_AMOUNT)
        case.holder = Holder.FINANCE
        case.holder_user = None
        set_deadline(
            change,
            kind=TimerKind.ESCALATED,
            due=deadline_in(working_days=c8.params.get("working_days", 1), start=now),
            action=Sentence(gettext_noop("财务逾期未核查，将升级至客服主管")),
            reason=Sentence(gettext_noop("支付通道逾期未确认退款，已转财务核查（系统仍在自动重试）")),
        )
        change.event(EventKind.TRANSFERRED, to=Holder.FINANCE, reason="gateway refund not confirmed in time")
        return "to finance"
    # review, finance, appeal, an escalation itself: a supervisor steps in with a fresh deadline.
    c9 = policy.clause(ClauseNo.COMPLAINT)
    due = deadline_in(working_days=c9.params.get("working_days", 2), start=now)
    tell_missed(change)
    if timer.kind == TimerKind.REVIEW:
        case.holder = Holder.SUPERVISOR
        case.holder_user = None
    set_deadline(
        change,
        kind=TimerKind.ESCALATED,
        due=due,
        action=Sentence(gettext_noop("主管督办中")),
        reason=Sentence(gettext_noop("原处理时限已过，已升级至客服主管督办")),
    )
    change.event(EventKind.ESCALATED, to="supervisor", clause=c9.ref, deadline=due.isoformat())
    return "escalated"


def tell_missed(change: CaseChange) -> None:
    """A staff deadline passed: the person who held the case and the supervisors are told (once:
    the timer fires once)."""
    case = change.case
    text = Sentence(gettext_noop("退款申请 #%(id)d 已超过处理时限，已升级至客服主管督办。"), id=case.pk)
    supervisors = User.objects.filter(groups__name=str(Role.SUPERVISOR), is_active=True)
    for user_id in {case.holder_user_id, *supervisors.values_list("pk", flat=True)} - {None}:
        change.notify(user_id, text, link=f"/refunds/staff/{case.pk}/")


def _poll_supplier(change: CaseChange, *, reschedule: bool) -> str:
    """A poll, not a missed deadline: kept off the timeline unless the answer decides the case."""
    verdict = verify(change.facts(), reason=change.case.reason)
    if verdict.action == VerdictAction.WAIT_SUPPLIER:
        if reschedule:
            schedule_supplier_poll(change)
        return "still unknown"
    change.event(EventKind.VERIFIED, fact=verdict.fact.as_json(), action=verdict.action)
    apply_verdict(change, verdict)
    return verdict.action


@task()
def fire_timer_task(timer_id: int) -> str:
    return fire_timer(timer_id=timer_id)
