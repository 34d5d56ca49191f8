"""Approving a refund and paying it (SPEC §5: approved → finance_review → refunding → refunded).

Every payout is one ledger transaction keyed `refund:<case>:<n>`, so a retried or repeated call
pays nothing twice; money to the original payment method also goes through the gateway, keyed
by the same key, and is finished when the gateway confirms it.
"""

from datetime import timedelta

from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django_tasks import TaskResultStatus, task
from django_tasks.exceptions import TaskResultDoesNotExist

from kameng.money import yuan
from kameng.orders import aftersales
from kameng.payments import services as payments
from kameng.payments.gateway import GatewayError
from kameng.payments.models import Payment, PayMethod
from kameng.sentences import Sentence, label_of
from kameng.wallet import services as wallet
from kameng.wallet.services import Line

from .. import policy
from ..models import Clause, EventKind, Holder, Payout, RefundTo, Stage, TimerKind
from ..policy import ClauseNo
from ..verification import refunded_by_payment
from .common import CaseChange, RefundError, deadline_in, lock_case, move, set_deadline

GATEWAY_REFUND_HOURS = 1  # clause 2's hour; the sandbox answers within seconds
# A gateway refund that did not go through is tried again after 10 s, 20 s, 40 s ... at most every
# 10 minutes, so a gateway or worker that is down for hours costs a handful of tasks, not one per tick.
RETRY_FIRST = timedelta(seconds=10)
RETRY_MAX = timedelta(minutes=10)


def retry_delay(enqueues: int) -> timedelta:
    """How long after its `enqueues`-th hand-over a gateway payout may be handed over again."""
    return min(RETRY_FIRST * 2 ** min(max(enqueues - 1, 0), 16), RETRY_MAX)


def approve(
    change: CaseChange,
    *,
    amount: int,
    actor,
    clause: Clause,
    reason: str,
    system: bool = False,
    void: bool = False,
    revoke_keys: bool = False,
    payment_ids: list[int] | None = None,
    partial: bool = False,
) -> None:
    """Approve `amount` in all for the case (never more than the order still holds: an earlier
    case may have paid part of it back) and pay what this case has not paid yet, or hand it to
    finance when a person approved a large amount. After an appeal, what the first decision paid
    stays paid and counts towards `amount`."""
    case = change.case
    already = paid_by_case(change)
    amount = min(amount, already + change.refundable().total)
    if amount <= already:
        raise RefundError(_("该订单已无可退款项。"))
    target = Stage.PARTIALLY_APPROVED if partial else Stage.APPROVED
    case.amount_approved = amount
    case.approved_by = actor
    case.decision_clause = clause.ref
    case.void_order = void
    case.revoke_keys = revoke_keys
    case.payment_ids = payment_ids or []
    move(change, target, holder=Holder.SYSTEM, actor=actor, clause=clause.ref, reason=reason)
    change.event(EventKind.DECISION, actor=actor, clause=clause.ref, decision=target, amount=amount)
    threshold = policy.param(ClauseNo.LARGE_AMOUNT, "threshold", 500_00)
    if amount > threshold and not system:
        c8 = policy.clause(ClauseNo.LARGE_AMOUNT)
        move(
            change,
            Stage.FINANCE_REVIEW,
            holder=Holder.FINANCE,
            clause=c8.ref,
            due=deadline_in(working_days=c8.params.get("working_days", 1)),
            due_kind=TimerKind.FINANCE,
            reason=Sentence(
                gettext_noop("退款金额 ¥%(amt)s 超过 ¥%(t)s，需财务二次审核"),
                amt=yuan(amount),
                t=yuan(threshold),
            ),
            due_action=Sentence(gettext_noop("逾期未审核，将提醒客服主管督办")),
        )
        return
    execute(change)


def destination(case, order) -> str:
    """Where a refund of the case goes, as the person confirming it reads it."""
    if case.refund_to == RefundTo.ORIGINAL and order.pay_method == PayMethod.GATEWAY:
        return _("原路退回买家的原支付方式")
    return _("买家的平台余额（即时到账）")


def paid_by_case(change: CaseChange) -> int:
    """What this case has already sent back (a decision before an appeal), from its payouts."""
    if change.created:
        return 0
    return change.case.payouts.aggregate(s=Sum("amount"))["s"] or 0


def execute(change: CaseChange) -> None:
    """Move the approved money not paid yet (so a repeated call pays nothing twice), then void the
    order or revoke keys as decided. The caller holds both locks."""
    case, order = change.case, change.order
    already = paid_by_case(change)
    amount = max((case.amount_approved or 0) - already, 0)
    move(
        change,
        Stage.REFUNDING,
        holder=Holder.SYSTEM,
        reason=Sentence(gettext_noop("正在退款 ¥%(amt)s"), amt=yuan(amount)),
    )
    facts = change.facts()
    if case.void_order:
        aftersales.void_for_refund(order, revoke_keys=case.revoke_keys)
    to_original = case.refund_to == RefundTo.ORIGINAL and order.pay_method == PayMethod.GATEWAY
    # Payouts of an earlier decision on this case keep their keys; this one's are numbered on.
    done = 0 if change.created else case.payouts.count()
    escrow = wallet.escrow_code(order.pk)
    in_escrow = facts.refundable.in_escrow
    pending = False
    for n, (part, payment) in enumerate(_plan(facts, case, amount) if amount else [], start=done + 1):
        key = f"refund:{case.pk}:{n}"
        # Escrow first; what was already settled to the seller (or revenue) is clawed back from it.
        from_escrow = min(part, in_escrow)
        in_escrow -= from_escrow
        gateway = to_original and payment is not None and payment.method == PayMethod.GATEWAY
        wallet.post(
            key=key,
            kind="refund",
            reference=order.no,
            memo=f"case {case.pk}",
            lines=[
                Line(escrow, -from_escrow),
                Line(aftersales.payee(order), -(part - from_escrow)),
                Line(wallet.GATEWAY if gateway else wallet.buyer_code(order.buyer_id), part),
            ],
        )
        if gateway:
            payout = Payout.objects.create(
                case=case,
                key=key,
                amount=part,
                payment=payment,
                method=RefundTo.ORIGINAL,
                gateway_refund=payments.create_gateway_refund(key=key, payment=payment, amount=part),
                enqueues=1,
                next_attempt_at=timezone.now() + retry_delay(1),
            )
            transaction.on_commit(lambda pid=payout.pk: _hand_over(pid))
            pending = True
        else:
            Payout.objects.create(
                case=case,
                key=key,
                amount=part,
                payment=payment,
                method=RefundTo.BALANCE,
                status=Payout.Status.SUCCEEDED,
                completed_at=timezone.now(),
            )
        change.event(
            EventKind.PAYOUT, amount=part, method=RefundTo.ORIGINAL if gateway else RefundTo.BALANCE, key=key
        )
    change.money_moved()
    if not pending:
        finish(change)
        return
    # Money on its way back through the gateway: the buyer sees until when, and what happens if the
    # gateway has still not confirmed by then (finance checks it with the channel).
    set_deadline(
        change,
        kind=TimerKind.GATEWAY_REFUND,
        due=deadline_in(hours=GATEWAY_REFUND_HOURS),
        action=Sentence(gettext_noop("逾期仍未到账，将转财务与支付通道核查")),
        reason=Sentence(gettext_noop("正在原路退回 ¥%(amt)s，到账以支付通道为准"), amt=yuan(amount)),
    )


def _plan(facts, case, amount: int) -> list[tuple[int, Payment | None]]:
    """How `amount` goes back: each payment gives back at most what it brought in, less what
    earlier cases already sent back through it, and the parts add up to the approved amount
    (never to the payments' face value). What no payment covers goes to the balance."""
    payments = {p.pk: p for p in facts.successful_payments}
    refunded = refunded_by_payment(facts)
    plan: list[tuple[int, Payment | None]] = []
    left = amount
    for pid in case.payment_ids or list(payments):
        payment = payments.get(pid)
        take = min(left, payment.amount - refunded.get(pid, 0)) if payment is not None else 0
        if take > 0:
            plan.append((take, payment))
            left -= take
    if left > 0:
        plan.append((left, None))
    return plan


def finish(change: CaseChange) -> None:
    case = change.case
    amount = yuan(case.amount_approved or 0)
    move(
        change,
        Stage.REFUNDED,
        holder=Holder.NOBODY,
        reason=Sentence(
            gettext_noop("已退款 ¥%(amt)s（%(to)s）"), amt=amount, to=label_of(RefundTo(case.refund_to))
        ),
    )
    change.notify(
        case.buyer_id,
        Sentence(gettext_noop("退款 ¥%(amt)s 已完成（订单 %(no)s）。"), amt=amount, no=change.order.no),
    )


def complete_gateway_refund(*, payout_id: int) -> str:
    """Send one gateway refund (retry-safe: the gateway deduplicates on our key). The gateway is
    called outside any lock; its answer is recorded under the order lock, then the case lock."""
    payout = Payout.objects.select_related("gateway_refund__payment").get(pk=payout_id)
    if payout.status == Payout.Status.SUCCEEDED:
        return "already"
    gr = payout.gateway_refund
    try:
        refund_no = payments.send_gateway_refund(gr)
    except GatewayError:
        Payout.objects.filter(pk=payout.pk).update(status=Payout.Status.FAILED)
        return "failed"
    with transaction.atomic():
        change = lock_case(payout.case_id)
        payout = Payout.objects.select_for_update().get(pk=payout_id)
        if payout.status == Payout.Status.SUCCEEDED:
            return "already"
        payments.mark_gateway_refund_succeeded(gr, refund_no=refund_no)
        payout.status = Payout.Status.SUCCEEDED
        payout.completed_at = timezone.now()
        payout.save(update_fields=["status", "completed_at"])
        change.event(EventKind.GATEWAY_REFUNDED, amount=payout.amount, refund_no=refund_no)
        case = change.case
        if (
            case.stage == Stage.REFUNDING
            and not case.payouts.exclude(status=Payout.Status.SUCCEEDED).exists()
        ):
            finish(change)
        change.save()
    return "succeeded"


@task()
def gateway_refund_task(payout_id: int) -> str:
    return complete_gateway_refund(payout_id=payout_id)


def _hand_over(payout_id: int) -> None:
    """Enqueue one attempt and remember its task, so the tick can see it is still waiting."""
    result = gateway_refund_task.enqueue(payout_id)
    Payout.objects.filter(pk=payout_id).update(task_id=str(result.id)[:64])


def _still_queued(task_id: str) -> bool:
    """Whether the attempt last handed over has not run yet (the worker is down or behind)."""
    if not task_id:
        return False
    try:
        status = gateway_refund_task.get_result(task_id).status
    except (TaskResultDoesNotExist, NotImplementedError):
        return False  # gone (pruned) or a backend that cannot tell: hand over again
    return status in {TaskResultStatus.READY, TaskResultStatus.RUNNING}


def enqueue_attempt(payout: Payout, *, now) -> bool:
    """The tick found `payout` due for another attempt (its `next_attempt_at` has passed). Hand it
    to the workers once, unless the previous attempt is still queued, and push its next attempt
    out by the backoff. The update is conditional on the count read, so two ticks racing hand it
    over once. Returns whether a task was enqueued. Money stays exactly-once whatever happens here:
    every attempt reuses the gateway refund's key."""
    queued = _still_queued(payout.task_id)
    count = payout.enqueues if queued else payout.enqueues + 1
    claimed = Payout.objects.filter(
        pk=payout.pk, enqueues=payout.enqueues, status__in=[Payout.Status.PENDING, Payout.Status.FAILED]
    ).update(enqueues=F("enqueues") + (0 if queued else 1), next_attempt_at=now + retry_delay(count))
    if not claimed or queued:
        return False
    _hand_over(payout.pk)
    return True
