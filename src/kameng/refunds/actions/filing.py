"""Filing a refund request and acting on what verification found (SPEC §3, §4).

Objective cases are decided and paid inside `submit_refund`; the others leave it with a holder
and a deadline: the seller (third-party goods) or platform review.
"""

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from kameng.accounts.models import Role
from kameng.accounts.services import notify
from kameng.catalog.models import GoodsKind
from kameng.evidence.uploads import MAX_FILES, UploadError, inspect
from kameng.money import yuan
from kameng.orders import aftersales
from kameng.orders.aftersales import OrderFacts
from kameng.orders.models import Order, OrderStatus
from kameng.orders.services import OrderError, locking
from kameng.sentences import Sentence

from .. import policy
from ..models import (
    Attachment,
    Channel,
    Demand,
    EventKind,
    Holder,
    Reason,
    RefundCase,
    RefundTo,
    Stage,
    TimerKind,
)
from ..policy import ClauseNo
from ..verification import UNPAID, Verdict, VerdictAction, draft_statement, missing_evidence, verify
from .common import LONG_TEXT, CaseChange, NotFound, RefundError, check_length, deadline_in, move
from .payout import approve

SUPPLIER_POLL_EVERY = timedelta(minutes=1)
SYSTEM_CHANNEL = Channel.SYSTEM  # a case the system filed for the buyer (a failed top-up)

log = logging.getLogger(__name__)


@dataclass
class EvidenceFile:
    """One uploaded file and the checklist item it answers."""

    item: str
    file: object


def check_claim(*, reason: str, demand: str, refund_to: str) -> None:
    """The request's own choices, before anything is locked."""
    if reason not in Reason.values:
        raise RefundError(_("请选择退款原因。"))
    if demand not in Demand.values:
        raise RefundError(_("请选择诉求：全额退款、部分退款或更换商品。"))
    if refund_to not in RefundTo.values:
        raise RefundError(_("请选择退款去向。"))


def check_may_file(order: Order, actor) -> None:
    """The buyer files for their own order; an agent or supervisor on a buyer's behalf."""
    if actor.pk != order.buyer_id and not actor.has_role(Role.AGENT, Role.SUPERVISOR):
        raise NotFound(_("订单不存在。"))


def check_evidence(reason: str, kind: str, evidence: list[EvidenceFile]) -> None:
    missing = missing_evidence(reason, kind, {f.item for f in evidence})
    if missing:
        raise RefundError(
            _("还缺少以下材料：%(m)s。请一次提交齐全，避免来回补充。") % {"m": "；".join(missing)}
        )


def check_filing(facts: OrderFacts, *, reason: str, demand: str, amount: int | None) -> int:
    """Whether the order can take a new case now (read under its lock); returns the amount asked."""
    order = facts.order
    if RefundCase.objects.filter(order=order, is_open=True).exists():
        raise RefundError(_("该订单已有一个进行中的退款申请。"))
    if order.status in UNPAID and reason != Reason.DUPLICATE_PAYMENT:
        raise RefundError(_("该订单未支付，无需退款。"))
    refundable = min(facts.refundable.total, order.amount)
    if facts.refundable.total <= 0:
        raise RefundError(_("该订单已无可退款项。"))
    if demand != Demand.PARTIAL_REFUND:
        return refundable
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise RefundError(_("请填写大于 0 的部分退款金额。"))
    if amount > refundable:
        raise RefundError(_("部分退款金额不能超过可退金额 ¥%(amt)s。") % {"amt": yuan(refundable)})
    return amount


def submit_refund(
    *,
    actor,
    reason: str,
    demand: str,
    order: Order | None = None,
    order_no: str = "",
    amount: int | None = None,
    description: str = "",
    statement: str = "",
    evidence: list[EvidenceFile] | None = None,
    refund_to: str = RefundTo.BALANCE,
    channel: str = "web",
) -> RefundCase:
    """A refund request (by the buyer, or by an agent on the buyer's behalf) for `order`, or for
    the order numbered `order_no`. Takes the order lock, then files, verifies and, for an
    objective case, pays inside this one transaction."""
    evidence = evidence or []
    check_claim(reason=reason, demand=demand, refund_to=refund_to)
    description, statement = check_length(description, LONG_TEXT), check_length(statement, LONG_TEXT)
    lookup = {"pk": order.pk} if order is not None else {"no": order_no}
    try:
        with transaction.atomic():
            found = locking(**lookup).first()
            if found is None:
                raise NotFound(_("订单不存在。"))
            check_may_file(found, actor)
            check_evidence(reason, found.kind, evidence)
            return _file(
                found,
                actor=actor,
                reason=reason,
                demand=demand,
                amount=amount,
                description=description,
                statement=statement,
                evidence=evidence,
                refund_to=refund_to,
                channel=channel,
            )
    except IntegrityError as e:
        if violates(e, "one_open_case_per_order"):  # another open case won the race
            raise RefundError(_("该订单已有一个进行中的退款申请。")) from e
        # Anything else is a race this request lost; it was rolled back whole.
        raise RefundError(_("提交未成功，没有做任何更改，请重试。")) from e


def violates(error: IntegrityError, constraint: str) -> bool:
    """Whether `error` is a violation of the named constraint (PostgreSQL names it; SQLite names
    the columns of a unique index instead)."""
    diag = getattr(error.__cause__, "diag", None)
    if diag is not None and diag.constraint_name:
        return diag.constraint_name == constraint
    return constraint == "one_open_case_per_order" and "refunds_refundcase.order_id" in str(error)


def _file(
    order: Order, *, actor, reason, demand, amount, description, statement, evidence, refund_to, channel
):
    facts = aftersales.read_facts(order)
    amount = check_filing(facts, reason=reason, demand=demand, amount=amount)
    verdict = verify(facts, reason=reason)
    if reason == Reason.DUPLICATE_PAYMENT:
        if verdict.action != VerdictAction.REFUND:
            # Approving it would pay back the order's own payment while the buyer keeps the goods.
            raise RefundError(
                _(
                    "系统未查到该订单有未退回的重复付款（%(f)s）。如银行流水显示扣款两次，请选择“其他”并上传流水截图。"
                )
                % {"f": verdict.fact}
            )
        amount = verdict.amount
    statement = statement.strip() or draft_statement(
        facts, reason=reason, demand=demand, amount=amount, verdict=verdict
    )
    case = RefundCase.objects.create(
        order=order,
        buyer_id=order.buyer_id,
        seller=order.seller,
        reason=reason,
        demand=demand,
        amount_requested=amount,
        refund_to=refund_to,
        description=description,
        channel=channel[:20],
        created_by=actor,
        stage=Stage.SUBMITTED,
        holder=Holder.SYSTEM,
        facts={**aftersales.shown_facts(facts), "verified": verdict.fact.as_json()},
        statement=statement[:LONG_TEXT],
    )
    change = CaseChange(case=case, order=order, created=True, facts_now=facts)
    change.event(
        EventKind.SUBMITTED,
        actor=None if channel == SYSTEM_CHANNEL else actor,
        reason=reason,
        demand=demand,
        amount=amount,
        channel=channel,
        refund_to=refund_to,
        on_behalf=actor.pk != order.buyer_id,
        by_system=channel == SYSTEM_CHANNEL,
    )
    store_evidence(change, evidence, actor)
    move(
        change,
        Stage.VERIFYING,
        holder=Holder.SYSTEM,
        reason=Sentence(gettext_noop("系统正在核对订单、支付和发货记录")),
    )
    change.event(
        EventKind.VERIFIED,
        fact=verdict.fact.as_json(),
        action=verdict.action,
        clause=policy.clause_for(verdict.clause, order).ref if verdict.clause else "",
    )
    apply_verdict(change, verdict)
    change.save()
    return case


def refund_failed_topup(order: Order) -> RefundCase | None:
    """The orders.hooks handler for a top-up the supplier reported failed: the system files the
    buyer's "not received" claim itself, which verification refunds at once (clause 3). The caller
    holds the order lock. Nothing is filed when a case is open (the buyer's own: verification
    decides it the same way) or nothing is left to refund (a second report of the same failure).
    A refusal leaves the failure recorded and the order for the buyer to file: logged, not raised."""
    if (
        order.status != OrderStatus.DELIVERY_FAILED
        or RefundCase.objects.filter(order=order, is_open=True).exists()
    ):
        return None
    try:
        with transaction.atomic():
            case = _file(
                order,
                actor=order.buyer,
                reason=Reason.NOT_RECEIVED,
                demand=Demand.FULL_REFUND,
                amount=None,
                description="",
                statement="",
                evidence=[],
                refund_to=RefundTo.ORIGINAL,
                channel=SYSTEM_CHANNEL,
            )
    except RefundError as e:
        log.warning("failed top-up of order %s not refunded by itself: %s", order.no, e)
        return None
    notify(
        order.buyer,
        Sentence(
            gettext_noop("订单 %(no)s 充值失败（供应商返回失败），系统已自动为您退款 ¥%(amt)s，无需申请。"),
            no=order.no,
            amt=yuan(case.amount_approved or 0),
        ),
        f"/refunds/{case.pk}/",
    )
    return case


def store_evidence(change: CaseChange, files: list[EvidenceFile], actor) -> list[Attachment]:
    """Keep uploaded files as evidence of the case, checked by content, each one an event."""
    if len(files) > MAX_FILES:
        raise RefundError(_("一次最多上传 %(n)d 个文件。") % {"n": MAX_FILES})
    stored = []
    for ev in files:
        try:
            mime, digest, size = inspect(ev.file)
        except UploadError as e:
            raise RefundError(str(e)) from e
        name = getattr(ev.file, "name", "file")[-200:]
        att = Attachment(
            case=change.case,
            item=ev.item[:40],
            original_name=name,
            content_type=mime,
            size=size,
            sha256=digest,
            uploaded_by=actor,
        )
        att.file.save(f"{change.case.pk}-{digest[:16]}", ev.file, save=False)
        att.save()
        stored.append(att)
        change.event(
            EventKind.EVIDENCE_ADDED,
            actor=actor,
            item=att.item,
            name=name,
            sha256=digest,
            size=size,
            content_type=mime,
        )
    return stored


# --- acting on a verdict ---------------------------------------------------------------------------


def apply_verdict(change: CaseChange, verdict: Verdict) -> None:
    """What the facts settle, the system does now; the rest goes to the seller or to review."""
    case = change.case
    if verdict.action in (VerdictAction.REFUND, VerdictAction.REVOKE_REFUND):
        c = policy.clause_for(verdict.clause, change.order)
        duplicate = case.reason == Reason.DUPLICATE_PAYMENT
        # Voiding the order leaves the buyer nothing, so all that was paid for it goes back, even if
        # the buyer asked for part of it (a voided order refunded in part would keep the rest).
        approve(
            change,
            amount=verdict.amount if duplicate else full_amount(change),
            actor=None,
            clause=c,
            system=True,
            reason=Sentence(gettext_noop("系统核验：%(f)s，按第%(n)d条自动退款"), f=verdict.fact, n=c.number),
            void=not duplicate,
            revoke_keys=verdict.action == VerdictAction.REVOKE_REFUND,
            payment_ids=verdict.payment_ids,
        )
    elif verdict.action == VerdictAction.REPLACE:
        _replace_or_refund(change, verdict)
    elif verdict.action == VerdictAction.WAIT_SUPPLIER:
        _wait_for_supplier(change, verdict)
    else:
        route(change, fact=verdict.fact)


def full_amount(change: CaseChange) -> int:
    return min(change.refundable().total, change.order.amount)


def _wait_for_supplier(change: CaseChange, verdict: Verdict) -> None:
    """The system asks the supplier (again every minute); a person in tech verification takes
    over only if the supplier is still silent at the deadline."""
    case = change.case
    c = policy.clause_for(ClauseNo.NOT_RECEIVED, change.order)
    change.supersede_timers()
    case.holder = Holder.SYSTEM
    case.stage_reason = verdict.fact.as_json()
    case.deadline_at = deadline_in(hours=c.params.get("hours", 24))
    case.deadline_action = Sentence(gettext_noop("逾期供应商仍未答复，将转技术核验人员优先处理")).as_json()
    change.add_timer(TimerKind.SUPPLIER_ANSWER, case.deadline_at, stage=Stage.VERIFYING)
    schedule_supplier_poll(change)
    change.event(EventKind.WAITING_SUPPLIER, clause=c.ref, deadline=case.deadline_at.isoformat())


def schedule_supplier_poll(change: CaseChange) -> None:
    """Ask the supplier again soon. A timer row (not a scan of every waiting case) keeps the tick's
    cost to what is due."""
    change.add_timer(TimerKind.SUPPLIER_POLL, change.now + SUPPLIER_POLL_EVERY, stage=Stage.VERIFYING)


def _replace_or_refund(change: CaseChange, verdict: Verdict) -> None:
    """A bad key the supplier vouches for: a new one from stock (补发), or the money back if the
    buyer asked for money, the caps are reached or no stock is left."""
    case, order = change.case, change.order
    c = policy.clause_for(ClauseNo.INVALID_KEY, order)

    def refund(reason: Sentence) -> None:
        approve(
            change,
            amount=full_amount(change),
            actor=None,
            clause=c,
            system=True,
            reason=reason,
            void=True,
            revoke_keys=True,
        )

    if case.demand != Demand.REPLACEMENT:
        refund(Sentence(gettext_noop("系统核验：%(f)s，按第%(n)d条自动退款"), f=verdict.fact, n=c.number))
        return
    per_order = RefundCase.objects.filter(order=order, stage=Stage.REPLACEMENT).count()
    per_seller = RefundCase.objects.filter(
        seller=order.seller, stage=Stage.REPLACEMENT, closed_at__gte=timezone.now() - timedelta(days=1)
    ).count()
    if (
        per_order >= c.params.get("max_replacements_per_order", 1)
        or per_seller >= order.seller.max_auto_replacements
    ):
        capped = Sentence(gettext_noop("%(f)s；自动补发次数已达上限，转人工审核"), f=verdict.fact)
        route(change, fact=capped, force_review=True)
        return
    replaced = False
    if aftersales.stock_left(order) >= order.quantity:
        try:
            with transaction.atomic():
                aftersales.replace_goods(order)
            replaced = True
        except OrderError:  # the keys counted a moment ago went to another buyer meanwhile
            replaced = False
    if not replaced:
        refund(
            Sentence(
                gettext_noop("系统核验：%(f)s；库存不足无法补发，按第%(n)d条自动退款"),
                f=verdict.fact,
                n=c.number,
            )
        )
        return
    move(
        change,
        Stage.REPLACEMENT,
        holder=Holder.NOBODY,
        clause=c.ref,
        reason=Sentence(gettext_noop("系统核验：%(f)s，已从库存补发新卡密"), f=verdict.fact),
    )
    case.decision_clause = c.ref
    change.notify(
        case.buyer_id, Sentence(gettext_noop("您的订单 %(no)s 已补发新卡密，请在订单页查看。"), no=order.no)
    )


def route(change: CaseChange, *, fact: Sentence, force_review: bool = False) -> None:
    """Third-party goods go to their seller first (clause 6); platform goods, and anything the
    system gave up on, to platform review."""
    case, order = change.case, change.order
    if order.seller.is_platform or force_review:
        to_review(change, reason=Sentence(gettext_noop("系统核验：%(f)s；转平台客服审核"), f=fact))
        return
    c = policy.clause(ClauseNo.SELLER_ANSWER)
    hours = c.params.get("hours", 48)
    move(
        change,
        Stage.AWAITING_SELLER,
        holder=Holder.SELLER,
        clause=c.ref,
        due=deadline_in(hours=hours),
        due_kind=TimerKind.SELLER_ANSWER,
        reason=Sentence(gettext_noop("系统核验：%(f)s；需要卖家“%(s)s”处理"), f=fact, s=order.seller.name),
        due_action=Sentence(gettext_noop("卖家逾期未处理，系统将自动同意退款")),
    )
    if order.seller.owner_id:
        change.notify(
            order.seller.owner_id,
            Sentence(gettext_noop("订单 %(no)s 有新的退款申请，请在 48 小时内处理。"), no=order.no),
            link=f"/refunds/seller/{case.pk}/",
        )


def review_due(change: CaseChange, start=None):
    c = policy.clause_for(ClauseNo.CUSTOM_SERVICE, change.order)
    if change.order.kind == GoodsKind.CUSTOM_SERVICE:
        return deadline_in(working_days=c.params.get("working_days", 3), start=start)
    return deadline_in(hours=c.params.get("other_review_hours", 24), start=start)


def basis(change: CaseChange) -> ClauseNo:
    """The clause the case rests on once a person decides it: 5 for custom services, otherwise the
    clause of its claim (2 duplicate payment, 11 an invalid card key, 3 the rest)."""
    return policy.basis_clause(change.case.reason, change.order.kind)


def to_review(change: CaseChange, *, reason: str, actor=None, due=None, holder_user=None) -> None:
    move(
        change,
        Stage.PLATFORM_REVIEW,
        holder=Holder.AGENT,
        holder_user=holder_user,
        actor=actor,
        due=due or review_due(change),
        due_kind=TimerKind.REVIEW,
        clause=policy.clause_for(basis(change), change.order).ref,
        reason=reason,
        due_action=Sentence(gettext_noop("逾期未处理，将升级至客服主管处理")),
    )


# Orders that can be delivered again: a refunded order never is, and a top-up whose result is still
# unknown is not sent a second time (both could land).
REPLACEABLE = {OrderStatus.PAID, OrderStatus.DELIVERY_FAILED, OrderStatus.DELIVERED, OrderStatus.COMPLETED}


def replace(change: CaseChange, *, actor, reason: str) -> None:
    """补发 decided by a person (a seller's offer the buyer accepted, or review)."""
    order = change.order
    if order.status not in REPLACEABLE:
        raise RefundError(_("订单状态为“%(s)s”，不能补发。") % {"s": order.get_status_display()})
    try:
        with transaction.atomic():
            aftersales.replace_goods(order)
    except OrderError as e:
        raise RefundError(str(e)) from e
    c = policy.clause_for(basis(change), change.order)
    change.case.decision_clause = c.ref
    move(change, Stage.REPLACEMENT, holder=Holder.NOBODY, actor=actor, reason=reason, clause=c.ref)
