"""The one appeal a decision allows (SPEC §5, clause 10): the buyer against a rejection, a partial
refund or a replacement; the seller against a decision that paid out of its money. Both go to a
supervisor, whose answer is final.

Money already paid stays paid: a buyer's appeal after a partial refund asks for the rest, and the
supervisor can grant at most what the order still holds. A seller's contest comes after the money
or the goods have reached the buyer; kameng never takes them back from the buyer. If the supervisor
finds for the seller, the platform, whose decision it was, makes the seller whole from its own
revenue (`compensate_seller`). While the appeal is open the case is open, so the order's escrow is
not settled to the seller meanwhile.
"""

from datetime import datetime

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from kameng.money import yuan
from kameng.orders import aftersales
from kameng.sentences import Sentence
from kameng.wallet import services as wallet

from .. import policy
from ..models import EventKind, Holder, RefundCase, Stage, TimerKind
from ..policy import ClauseNo
from .common import NOTE, CaseChange, RefundError, check_length, deadline_in, lock_case, move

# Decisions the seller bears: the money went back out of its order, or it delivered again.
CONTESTABLE = {Stage.REFUNDED, Stage.REPLACEMENT}


def open_appeal_window(change: CaseChange) -> datetime:
    """A decision by staff (or by the seller's silence) may be appealed for clause 10's days."""
    days = policy.clause(ClauseNo.APPEAL).params.get("days", 7)
    change.case.appeal_until = deadline_in(days=days, start=change.now)
    return change.case.appeal_until


def _window(case: RefundCase) -> datetime | None:
    # Cases rejected before the window was stored kept it as their deadline.
    if case.appeal_until is None and case.stage == Stage.REJECTED:
        return case.deadline_at
    return case.appeal_until


def _check_window(case: RefundCase, now: datetime | None) -> None:
    until = _window(case)
    if until is None:
        raise RefundError(_("该处理结果不是平台作出的决定，不能申诉。"))
    if (now or timezone.now()) > until:
        raise RefundError(_("申诉期已过。"))


def check_appeal(case: RefundCase, buyer, now: datetime | None = None) -> None:
    """The buyer's one appeal, within the window of a decision that did not give all they asked."""
    if case.buyer_id != buyer.pk:
        raise RefundError(_("退款申请不存在。"))
    if case.appealed_at is not None:
        raise RefundError(_("该申请已申诉过，客服主管的复核结果为最终结果。"))
    if not buyer_may_appeal_stage(case):
        raise RefundError(_("只有被驳回、部分退款或补发的申请可以申诉。"))
    _check_window(case, now)


def buyer_may_appeal_stage(case: RefundCase) -> bool:
    """A rejection, a replacement, or a refund of less than was asked."""
    if case.stage in (Stage.REJECTED, Stage.REPLACEMENT):
        return True
    return case.stage == Stage.REFUNDED and (case.amount_approved or 0) < case.amount_requested


def check_contest(case: RefundCase, seller_user, now: datetime | None = None) -> None:
    """The seller's one appeal against a decision it bears (a refund or a replacement decided by
    staff, or approved because it did not answer in time), within the same window."""
    if case.seller.owner_id != seller_user.pk:
        raise RefundError(_("退款申请不存在。"))
    if case.appealed_at is not None:
        raise RefundError(_("该申请已申诉过，客服主管的复核结果为最终结果。"))
    if case.stage not in CONTESTABLE or case.approved_by_id == seller_user.pk or case.seller.is_platform:
        raise RefundError(_("只有由您承担的平台退款或补发决定可以申诉。"))
    _check_window(case, now)


def _appeal(change: CaseChange, *, by, note: str, reason: str) -> None:
    """`reason` is the source text of the stage's reason (marked with gettext_noop), with %(n)s for the note."""
    case = change.case
    note = check_length(note, NOTE)
    if not note:
        raise RefundError(_("请写明申诉理由。"))
    if RefundCase.objects.filter(order=case.order_id, is_open=True).exclude(pk=case.pk).exists():
        raise RefundError(_("该订单已有一个进行中的退款申请。"))
    case.appealed_at = change.now
    case.appealed_by = by
    case.appealed_from = case.stage
    c9 = policy.clause(ClauseNo.COMPLAINT)
    move(
        change,
        Stage.APPEALED,
        holder=Holder.SUPERVISOR,
        actor=by,
        clause=c9.ref,
        due=deadline_in(working_days=c9.params.get("working_days", 2)),
        due_kind=TimerKind.APPEAL,
        reason=Sentence(reason, n=note[:200]),
        due_action=Sentence(gettext_noop("逾期未处理，将升级提醒")),
    )


@transaction.atomic
def appeal(*, case_id: int, buyer, note: str) -> RefundCase:
    change = lock_case(case_id)
    case = change.case
    check_appeal(case, buyer, change.now)
    if change.refundable().total <= 0:
        raise RefundError(_("该订单已无可退款项。"))
    _appeal(change, by=buyer, note=note, reason=gettext_noop("买家申诉：%(n)s"))
    if case.seller.owner_id and not case.seller.is_platform:
        change.notify(
            case.seller.owner_id,
            Sentence(gettext_noop("买家对退款申请 #%(id)d 的处理结果提出申诉，由客服主管复核。"), id=case.pk),
            link=f"/refunds/seller/{case.pk}/",
        )
    change.save()
    return case


@transaction.atomic
def contest(*, case_id: int, seller_user, note: str) -> RefundCase:
    change = lock_case(case_id)
    case = change.case
    check_contest(case, seller_user, change.now)
    _appeal(change, by=seller_user, note=note, reason=gettext_noop("卖家申诉：%(n)s"))
    change.notify(
        case.buyer_id,
        Sentence(gettext_noop("卖家对退款申请 #%(id)d 的处理结果提出申诉，已退的款项不受影响。"), id=case.pk),
    )
    change.save()
    return case


def seller_contested(case: RefundCase) -> bool:
    return case.appealed_by_id is not None and case.appealed_by_id == case.seller.owner_id


def uphold(change: CaseChange, *, agent, clause_ref: str, said: dict) -> None:
    """The supervisor keeps the decision appealed: the case goes back to where it was, for good."""
    case = change.case
    back = case.appealed_from or Stage.REJECTED
    move(
        change,
        back,
        holder=Holder.NOBODY,
        actor=agent,
        clause=clause_ref,
        reason=Sentence(
            gettext_noop("客服主管 %(no)s 复核申诉后维持原处理结果（依据第%(n)d条）：%(t)s"), **said
        ),
    )
    change.event(EventKind.DECISION, actor=agent, clause=clause_ref, decision=back, final=True)
    change.notify(case.buyer_id, Sentence(gettext_noop("申诉已由客服主管复核，维持原处理结果。")))
    if seller_contested(case):
        change.notify(
            case.seller.owner_id, Sentence(gettext_noop("您的申诉已由客服主管复核，维持原处理结果。"))
        )


def compensate_seller(change: CaseChange) -> int:
    """What the overturned decision cost the seller, paid from platform revenue (never taken back
    from the buyer): the money this case refunded, or the order's price for goods sent again. Keyed
    per case, so it is paid once; referenced apart from the order, so it never adds to what the
    order may still refund."""
    case, order = change.case, change.order
    if case.appealed_from == Stage.REPLACEMENT:
        cost = order.amount
    else:
        cost = case.payouts.aggregate(s=Sum("amount"))["s"] or 0
    if cost > 0:
        wallet.post(
            key=f"contest:{case.pk}",
            kind="compensation",
            reference=f"contest:{case.pk}",
            memo=f"order {order.no}",
            lines=[wallet.Line(wallet.REVENUE, -cost), wallet.Line(aftersales.payee(order), cost)],
        )
    return cost


def find_for_seller(change: CaseChange, *, agent, clause_ref: str, said: dict) -> None:
    """The supervisor finds a seller's contest justified."""
    case = change.case
    cost = compensate_seller(change)
    move(
        change,
        case.appealed_from,
        holder=Holder.NOBODY,
        actor=agent,
        clause=clause_ref,
        reason=Sentence(
            gettext_noop(
                "客服主管 %(no)s 认定卖家申诉成立：平台向卖家补偿 ¥%(a)s，买家已收到的款项不受影响。%(t)s"
            ),
            **said,
            a=yuan(cost),
        ),
    )
    change.event(
        EventKind.DECISION, actor=agent, clause=clause_ref, decision="for_seller", amount=cost, final=True
    )
    change.notify(
        case.seller.owner_id, Sentence(gettext_noop("您的申诉成立，平台已补偿 ¥%(a)s。"), a=yuan(cost))
    )
