"""The seller's answers to a request on its goods (clause 6: within 48 hours, or it is approved)."""

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from kameng.money import yuan
from kameng.safety import scam
from kameng.sentences import Sentence

from .. import policy
from ..models import (
    Demand,
    EventKind,
    Holder,
    Reason,
    RefundCase,
    SellerAnswer,
    SellerOffer,
    Stage,
    TimerKind,
)
from ..policy import ClauseNo
from .common import NOTE, CaseChange, RefundError, check_length, deadline_in, lock_case, set_deadline
from .filing import EvidenceFile, replace, store_evidence, to_review
from .payout import approve


def check_seller_answer(case: RefundCase, seller_user) -> None:
    """The seller of the case answers it while it waits for the seller and has no offer out."""
    if case.seller.owner_id != seller_user.pk:
        raise RefundError(_("退款申请不存在。"))
    if case.stage != Stage.AWAITING_SELLER or case.seller_offer:
        raise RefundError(_("该申请当前不需要您处理。"))


def _lock_for_seller(case_id: int, seller_user) -> CaseChange:
    change = lock_case(case_id)
    check_seller_answer(change.case, seller_user)
    return change


def approve_as_asked(change: CaseChange, *, actor, clause, reason: str) -> None:
    """Refund what the buyer asked for (the seller agreed, or did not answer in time)."""
    case, order = change.case, change.order
    approve(
        change,
        amount=case.amount_requested,
        actor=actor,
        clause=clause,
        reason=reason,
        void=case.amount_requested >= order.amount and case.reason != Reason.DUPLICATE_PAYMENT,
        revoke_keys=True,
        partial=case.demand == Demand.PARTIAL_REFUND,
    )


# What the buyer reads instead of a seller's note the scam filter held (SPEC §9: the note is kept for
# the platform's review, the buyer is told what the platform never asks for).
HELD_NOTE = gettext_noop(
    "卖家留言含有平台绝不会提出的要求（如交保证金、加私人联系方式），已被拦截，等待平台审核"
)


def screened(note: str) -> tuple[str, dict]:
    """A seller's note as the buyer may read it, and what the event keeps besides: a note the scam
    filter holds is replaced for the buyer, kept whole for staff (`held_note`) and its hit logged."""
    if not note:
        return note, {}
    verdict = scam.check(note, sender="seller")
    if verdict.verdict != "hold":
        return note, {}
    scam.log_hit(verdict, source="refunds.seller_answer")
    return "", {"held": True, "held_note": note, "scam": list(verdict.categories)}


@transaction.atomic
def seller_agree(*, case_id: int, seller_user, note: str = "") -> RefundCase:
    change = _lock_for_seller(case_id, seller_user)
    note, held = screened(check_length(note, NOTE))
    change.event(EventKind.SELLER_ANSWER, actor=seller_user, answer=SellerAnswer.AGREE, note=note, **held)
    approve_as_asked(
        change,
        actor=seller_user,
        clause=policy.clause(ClauseNo.SELLER_ANSWER),
        reason=Sentence(gettext_noop("卖家同意退款")),
    )
    change.save()
    return change.case


@transaction.atomic
def seller_refuse(*, case_id: int, seller_user, note: str, evidence: list[EvidenceFile]) -> RefundCase:
    change = _lock_for_seller(case_id, seller_user)
    note = check_length(note, NOTE)
    if not note or not evidence:
        raise RefundError(_("拒绝退款需要填写理由并上传证据。"))
    store_evidence(change, evidence, seller_user)
    note, held = screened(note)
    change.event(EventKind.SELLER_ANSWER, actor=seller_user, answer=SellerAnswer.REFUSE, note=note, **held)
    to_review(
        change,
        actor=seller_user,
        reason=Sentence(gettext_noop("卖家拒绝退款：%(n)s；转平台审核"), n=note.strip()[:200])
        if note
        else Sentence(gettext_noop("卖家拒绝退款；转平台审核（%(held)s）"), held=Sentence(HELD_NOTE)),
    )
    change.save()
    return change.case


@transaction.atomic
def seller_offer(
    *, case_id: int, seller_user, offer: str, amount: int | None = None, note: str = ""
) -> RefundCase:
    """A partial refund or a replacement the buyer may accept; declining sends it to platform review."""
    change = _lock_for_seller(case_id, seller_user)
    case = change.case
    note, held = screened(check_length(note, NOTE))
    if offer == SellerOffer.PARTIAL:
        if not isinstance(amount, int) or isinstance(amount, bool) or not 0 < amount < case.amount_requested:
            raise RefundError(
                _("部分退款金额须大于 0 且小于买家申请的 ¥%(a)s。") % {"a": yuan(case.amount_requested)}
            )
        text = Sentence(gettext_noop("卖家提出部分退款 ¥%(a)s"), a=yuan(amount))
    elif offer == SellerOffer.REPLACEMENT:
        amount = None
        text = Sentence(gettext_noop("卖家提出更换商品（补发）"))
    else:
        raise RefundError(_("请选择方案：部分退款或补发。"))
    case.seller_offer = offer
    case.seller_offer_amount = amount
    case.holder = Holder.BUYER
    c7 = policy.clause(ClauseNo.MATERIAL)
    set_deadline(
        change,
        kind=TimerKind.BUYER_OFFER,
        due=deadline_in(hours=c7.params.get("hours", 72)),
        action=Sentence(gettext_noop("买家逾期未回应，转平台审核")),
        reason=Sentence(gettext_noop("%(offer)s：%(n)s"), offer=text, n=note[:200]) if note else text,
    )
    change.event(EventKind.SELLER_ANSWER, actor=seller_user, answer=offer, amount=amount, note=note, **held)
    change.notify(case.buyer_id, Sentence(gettext_noop("%(offer)s，请在退款进度页确认或拒绝。"), offer=text))
    change.save()
    return case


def check_answer_offer(case: RefundCase, buyer) -> None:
    if case.buyer_id != buyer.pk:
        raise RefundError(_("退款申请不存在。"))
    if case.stage != Stage.AWAITING_SELLER or not case.seller_offer:
        raise RefundError(_("当前没有待确认的卖家方案。"))


@transaction.atomic
def buyer_answer_offer(*, case_id: int, buyer, accept: bool) -> RefundCase:
    change = lock_case(case_id)
    case, order = change.case, change.order
    check_answer_offer(case, buyer)
    change.event(EventKind.BUYER_ANSWER_OFFER, actor=buyer, accept=accept, offer=case.seller_offer)
    offer, amount = case.seller_offer, case.seller_offer_amount
    case.seller_offer = ""
    if not accept:
        to_review(change, actor=buyer, reason=Sentence(gettext_noop("买家不接受卖家方案，转平台审核")))
    elif offer == SellerOffer.PARTIAL:
        approve(
            change,
            amount=amount,
            actor=buyer,
            clause=policy.clause_for(policy.basis_clause(case.reason, order.kind), order),
            partial=True,
            reason=Sentence(gettext_noop("买家接受卖家的部分退款方案")),
        )
    else:
        replace(change, actor=buyer, reason=Sentence(gettext_noop("买家接受卖家的补发方案")))
    change.save()
    return case
