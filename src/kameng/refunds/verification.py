"""Automatic verification (SPEC §4): what the platform's own records say about a claim, the
"fact + basis" statement drawn from it, and the evidence a claim needs. Reads only, except that
a non-peeking check may ask the supplier again (which can deliver a top-up: the caller holds the
order lock then)."""

from dataclasses import dataclass, field
from datetime import timedelta

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from kameng.catalog.models import GoodsKind
from kameng.choices import label
from kameng.money import yuan
from kameng.orders import aftersales
from kameng.orders.aftersales import OrderFacts
from kameng.orders.models import OrderStatus
from kameng.payments.models import PayMethod
from kameng.sentences import Sentence, label_of

from . import policy
from .models import Demand, Payout, Reason
from .policy import ClauseNo


class VerdictAction(models.TextChoices):
    REFUND = "refund", gettext_lazy("退款")
    REVOKE_REFUND = "revoke_refund", gettext_lazy("作废卡密并退款")
    REPLACE = "replace", gettext_lazy("补发")
    WAIT_SUPPLIER = "wait_supplier", gettext_lazy("等待供应商答复")
    ROUTE = "route", gettext_lazy("转卖家或平台处理")


@dataclass
class Verdict:
    """What the facts say about a claim, and the clause that settles it (if they settle it)."""

    action: VerdictAction
    fact: Sentence  # shown in the reader's language (kameng.sentences)
    clause: ClauseNo | None = None
    amount: int = 0
    payment_ids: list[int] = field(default_factory=list)


# Orders nothing was ever delivered or paid for (a duplicate-payment claim aside).
UNPAID = (OrderStatus.PENDING, OrderStatus.CANCELLED, OrderStatus.EXPIRED)


def verify(facts: OrderFacts, *, reason: str, peek: bool = False) -> Verdict:
    """Check the claim against the system's own records. `peek` asks nobody outside (a page
    drafting the statement); without it, an unknown top-up or a revealed key is asked about."""
    order = facts.order
    if reason == Reason.DUPLICATE_PAYMENT:
        return _verify_duplicate(facts)
    if order.status in (*UNPAID, OrderStatus.REFUNDED):
        return _route(Sentence(gettext_noop("订单状态为“%(s)s”"), s=label_of(OrderStatus(order.status))))
    if order.kind == GoodsKind.CARD_KEY:
        return _verify_card_key(facts, reason=reason, peek=peek)
    if reason == Reason.NOT_RECEIVED and order.kind == GoodsKind.DIRECT_TOPUP:
        return _verify_topup(facts, peek=peek)
    if reason == Reason.NOT_RECEIVED and order.kind == GoodsKind.ACTIVATION:
        if order.status == OrderStatus.PAID:
            return _refund(Sentence(gettext_noop("系统未查到激活记录")), ClauseNo.NOT_RECEIVED, order.amount)
        return _route(Sentence(gettext_noop("系统记录已于 %(t)s 激活"), t=_fmt(order.delivered_at)))
    if order.kind == GoodsKind.CUSTOM_SERVICE and order.status == OrderStatus.PAID:
        return _route(Sentence(gettext_noop("卖家尚未交付")))
    if order.kind == GoodsKind.CUSTOM_SERVICE:
        return _route(Sentence(gettext_noop("卖家已于 %(t)s 交付"), t=_fmt(order.delivered_at)))
    return _route(Sentence(gettext_noop("订单状态为“%(s)s”"), s=label_of(OrderStatus(order.status))))


def _refund(fact: Sentence, clause: ClauseNo, amount: int) -> Verdict:
    return Verdict(VerdictAction.REFUND, fact, clause=clause, amount=amount)


def _route(fact: Sentence) -> Verdict:
    return Verdict(VerdictAction.ROUTE, fact)


def _verify_duplicate(facts: OrderFacts) -> Verdict:
    payments = facts.successful_payments
    if len(payments) <= 1:
        return _route(Sentence(gettext_noop("系统仅查到 %(n)d 笔成功付款"), n=len(payments)))
    # A duplicate that an earlier case already paid back is not paid back again.
    refunded = refunded_by_payment(facts)
    extra = [p for p in payments[1:] if p.amount > refunded.get(p.pk, 0)]
    if not extra:
        return _route(Sentence(gettext_noop("系统查到 %(n)d 笔成功付款，多付的款项已退回"), n=len(payments)))
    owed = sum(p.amount - refunded.get(p.pk, 0) for p in extra)
    return Verdict(
        VerdictAction.REFUND,
        Sentence(
            gettext_noop("系统查到该订单有 %(n)d 笔成功付款，多付 %(extra)d 笔共 ¥%(amt)s"),
            n=len(payments),
            extra=len(extra),
            amt=yuan(owed),
        ),
        clause=ClauseNo.DUPLICATE_PAYMENT,
        amount=owed,
        payment_ids=[p.pk for p in extra],
    )


def _verify_topup(facts: OrderFacts, *, peek: bool) -> Verdict:
    order = facts.order
    failed = Sentence(gettext_noop("供应商返回充值失败"))
    if order.status == OrderStatus.DELIVERY_FAILED:
        return _refund(failed, ClauseNo.NOT_RECEIVED, order.amount)
    if order.status == OrderStatus.DELIVERING:
        if not peek and aftersales.recheck_topup(facts) == "failed":
            return _refund(failed, ClauseNo.NOT_RECEIVED, order.amount)
        if order.status == OrderStatus.DELIVERING or peek:
            return Verdict(
                VerdictAction.WAIT_SUPPLIER,
                Sentence(gettext_noop("充值结果未知，系统正在向供应商查询")),
                clause=ClauseNo.NOT_RECEIVED,
            )
    if order.status == OrderStatus.PAID:
        return _refund(Sentence(gettext_noop("系统未查到充值记录")), ClauseNo.NOT_RECEIVED, order.amount)
    return _route(Sentence(gettext_noop("供应商返回充值成功（%(t)s）"), t=_fmt(order.delivered_at)))


def _verify_card_key(facts: OrderFacts, *, reason: str, peek: bool) -> Verdict:
    order = facts.order
    assigned = facts.assigned_keys
    if not assigned:
        if order.status == OrderStatus.PAID:
            return _refund(
                Sentence(gettext_noop("系统未给该订单分配卡密（缺货未发货）")),
                ClauseNo.NOT_RECEIVED,
                order.amount,
            )
        return _route(Sentence(gettext_noop("该订单没有有效卡密")))
    viewed = [k.viewed_at for k in assigned if k.viewed_at]
    window = timedelta(days=policy.param(ClauseNo.UNOPENED_KEY, "days", 7))
    delivered_at = order.delivered_at or min(k.assigned_at for k in assigned)
    if not viewed:
        if timezone.now() - delivered_at <= window:
            return Verdict(
                VerdictAction.REVOKE_REFUND,
                Sentence(gettext_noop("卡密于 %(t)s 发放，买家从未查看，未兑换"), t=_fmt(delivered_at)),
                clause=ClauseNo.UNOPENED_KEY,
                amount=order.amount,
            )
        return _route(Sentence(gettext_noop("卡密未查看，但已超过 %(d)d 天退货期"), d=window.days))
    first_view = _fmt(min(viewed))
    if reason != Reason.INVALID_KEY:
        return _route(Sentence(gettext_noop("卡密已于 %(t)s 被查看"), t=first_view))
    if peek:
        return _route(
            Sentence(gettext_noop("卡密已于 %(t)s 被查看，提交后系统将向供应商查询是否已兑换"), t=first_view)
        )
    answer = aftersales.key_redemption(order)
    if answer in ("not_redeemed", "bad_batch"):
        what = gettext_noop("该批次有问题") if answer == "bad_batch" else gettext_noop("卡密未被兑换")
        fact = Sentence(
            gettext_noop("卡密已于 %(t)s 被查看；供应商确认%(what)s"), t=first_view, what=Sentence(what)
        )
        return Verdict(VerdictAction.REPLACE, fact, clause=ClauseNo.INVALID_KEY, amount=order.amount)
    if answer == "redeemed":
        return _route(Sentence(gettext_noop("卡密已于 %(t)s 被查看；供应商确认卡密已被兑换"), t=first_view))
    return _route(Sentence(gettext_noop("卡密已于 %(t)s 被查看；供应商暂未答复是否兑换"), t=first_view))


def refunded_by_payment(facts: OrderFacts) -> dict[int, int]:
    """What the cases of this order have already sent back, per payment."""
    if facts.refundable.total == sum(p.amount for p in facts.successful_payments):
        return {}  # everything paid is still there: nothing was ever sent back
    out: dict[int, int] = {}
    rows = Payout.objects.filter(case__order=facts.order, payment__isnull=False).values_list(
        "payment_id", "amount"
    )
    for payment_id, amount in rows:
        out[payment_id] = out.get(payment_id, 0) + amount
    return out


def _fmt(dt) -> str:
    return timezone.localtime(dt).strftime("%Y-%m-%d %H:%M") if dt else "—"


# --- the statement (事实+依据) ----------------------------------------------------------------------

DEMAND_TEXT = {
    Demand.FULL_REFUND: gettext_lazy("全额退款 ¥%(amount)s"),
    Demand.PARTIAL_REFUND: gettext_lazy("部分退款 ¥%(amount)s"),
    Demand.REPLACEMENT: gettext_lazy("更换商品（补发）"),
}


def draft_statement(
    facts: OrderFacts, *, reason: str, demand: str, amount: int, verdict: Verdict | None = None
) -> str:
    """What I did → what happened (the verified fact) → which rule applies → what I ask for."""
    order = facts.order
    verdict = verdict or verify(facts, reason=reason, peek=True)
    c = policy.clause_for(verdict.clause or policy.basis_clause(reason, order.kind), order)
    lines = [
        _("我做了什么：我于 %(t)s 购买“%(p)s”×%(q)d（订单号 %(no)s），支付 ¥%(amt)s（%(m)s）。")
        % {
            "t": _fmt(order.paid_at or order.created_at),
            "p": order.product.name,
            "q": order.quantity,
            "no": order.no,
            "amt": yuan(order.amount),
            "m": label(PayMethod, order.pay_method),
        },
        _("发生了什么：%(r)s；系统核验：%(f)s。") % {"r": Reason(reason).label, "f": verdict.fact},
        _("适用条款：《虚拟商品退款条款》第%(n)d条（%(title)s）：%(body)s")
        % {"n": c.number, "title": _(c.title), "body": _(c.body)},
        _("我的诉求：%(d)s。") % {"d": DEMAND_TEXT[demand] % {"amount": yuan(amount)}},
    ]
    return "\n".join(lines)


def draft_statement_for(order, *, reason: str, demand: str, amount: int) -> str:
    """The statement a page drafts before the buyer sends it (nobody outside is asked)."""
    return draft_statement(aftersales.read_facts(order), reason=reason, demand=demand, amount=amount)


# --- evidence the claim needs ------------------------------------------------------------------------


def missing_evidence(reason: str, kind: str, given_items: set[str]) -> list[str]:
    """Labels of the evidence items the policy asks for that are not among `given_items`."""
    return [item["label"] for item in policy.evidence_items(reason, kind) if item["code"] not in given_items]
