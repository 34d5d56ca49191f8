"""Read-only queries and presentation facts of refund cases, shared by the pages (and anyone else)."""

from datetime import datetime

from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from kameng.accounts.models import Role
from kameng.accounts.permissions import is_staff_member
from kameng.evidence.models import Event
from kameng.orders.models import OrderStatus, RefundState, SupplierResult
from kameng.sentences import say

from . import case_hooks, policy
from .actions import buyer as buyer_rules
from .actions.appeals import check_appeal
from .actions.common import may
from .actions.seller import check_answer_offer
from .event_text import event_sentence, local, yuan
from .models import (
    Clause,
    EventKind,
    Holder,
    RefundCase,
    RefundTo,
    SellerOffer,
    Stage,
)

# Orders a buyer may ask a refund for (the engine decides whether anything is left to refund).
REFUNDABLE_ORDER_STATUSES = {
    OrderStatus.PAID,
    OrderStatus.DELIVERING,
    OrderStatus.DELIVERY_FAILED,
    OrderStatus.DELIVERED,
    OrderStatus.COMPLETED,
}
STAFF_ROLES = (Role.AGENT, Role.SUPERVISOR, Role.FINANCE, Role.ADMIN)


def cases():
    return RefundCase.objects.select_related("order", "order__product", "seller", "buyer", "holder_user")


# --- who may see what ------------------------------------------------------------------------------


def case_for_viewer(case_id: int, user) -> RefundCase:
    """The case if `user` is its buyer, the owner of its seller, or staff; otherwise 404 (ids leak nothing)."""
    case = cases().filter(pk=case_id).first()
    if case is None or not user.is_authenticated:
        raise Http404
    if case.buyer_id == user.pk or case.seller.owner_id == user.pk or is_staff_member(user):
        return case
    raise Http404


def buyer_case(case_id: int, user) -> RefundCase:
    case = cases().filter(pk=case_id, buyer=user).first()
    if case is None:
        raise Http404
    return case


def seller_case(case_id: int, user) -> RefundCase:
    case = cases().filter(pk=case_id, seller__owner=user).first()
    if case is None:
        raise Http404
    return case


def open_case_for_order(order) -> RefundCase | None:
    return RefundCase.objects.filter(order=order, is_open=True).first()


def cases_of_order(order):
    return RefundCase.objects.filter(order=order).order_by("pk")


def may_request_refund(order) -> bool:
    """Whether the order page offers 申请退款 (when no case is open): paid, and money left to refund."""
    return order.status in REFUNDABLE_ORDER_STATUSES and order.refund_state != RefundState.FULLY


def current_clauses():
    return list(Clause.objects.filter(is_current=True).order_by("number"))


def clause_by_ref(ref: str) -> Clause | None:
    """'3@v1' → the clause of that number and version (the one the decision used)."""
    if not ref or "@v" not in ref:
        return None
    number, _sep, version = ref.partition("@v")
    if not (number.isdigit() and version.isdigit()):
        return None
    found = Clause.objects.filter(number=int(number), version=int(version)).first()
    if found is None and int(version) == 0:
        return policy.clause(int(number))
    return found


def clause_label(ref: str) -> str:
    c = clause_by_ref(ref)
    if c is None:
        return ref
    return _label_clause(c)


def _label_clause(c: Clause) -> str:
    return _("《虚拟商品退款条款》第%(n)d条（%(t)s）") % {"n": c.number, "t": _(c.title)}


def clause_labels(refs) -> dict[str, str]:
    """{ref: label} for many refs at once: one query, however many events cite them."""
    wanted = {ref for ref in refs if ref}
    if not wanted:
        return {}
    numbers = {int(ref.partition("@v")[0]) for ref in wanted if ref.partition("@v")[0].isdigit()}
    found = {c.ref: _label_clause(c) for c in Clause.objects.filter(number__in=numbers)}
    return {ref: found[ref] if ref in found else clause_label(ref) for ref in wanted}


# --- the holder box -------------------------------------------------------------------------------


def time_left(deadline: datetime | None, now: datetime | None = None) -> str:
    """'1天23时' / '5时12分' / '12分' / '已逾期'."""
    if deadline is None:
        return ""
    seconds = int((deadline - (now or timezone.now())).total_seconds())
    if seconds <= 0:
        return _("已逾期")
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return _("%(d)d天%(h)d时") % {"d": days, "h": hours}
    if hours:
        return _("%(h)d时%(m)d分") % {"h": hours, "m": minutes}
    return _("%(m)d分") % {"m": max(minutes, 1)}


def holder_label(case: RefundCase, *, viewer_is_buyer: bool = False) -> str:
    h = case.holder
    if h == Holder.SELLER:
        return _("卖家“%(s)s”") % {"s": case.seller.name}
    if h == Holder.AGENT:
        if case.holder_user_id and case.holder_user.agent_no:
            return _("客服 %(no)s") % {"no": case.holder_user.agent_no}
        return _("平台客服（待分配）")
    if h == Holder.BUYER:
        return _("您（买家）") if viewer_is_buyer else _("买家")
    if (
        h in (Holder.SUPERVISOR, Holder.FINANCE, Holder.TECH)
        and case.holder_user_id
        and case.holder_user.agent_no
    ):
        return "%s %s" % (Holder(h).label, case.holder_user.agent_no)
    if h == Holder.NOBODY:
        return _("无需处理")
    return str(Holder(h).label)


def _holder_task(case: RefundCase) -> str:
    """What the holder is expected to do before the deadline."""
    if case.holder == Holder.BUYER:
        if case.stage == Stage.NEEDS_INFO:
            return _("补充材料")
        if case.stage == Stage.REJECTED:
            return _("决定是否申诉")
        if case.seller_offer:
            return _("确认卖家方案")
    if case.holder == Holder.FINANCE:
        return _("复核")
    return _("处理")


def buyer_can_do(case: RefundCase) -> str:
    s = case.stage
    if s in (Stage.SUBMITTED, Stage.VERIFYING):
        return _("您无需操作，系统正在核对记录，有结果会立即更新本页。")
    if s == Stage.AWAITING_SELLER and case.seller_offer:
        return _("请在下方接受或拒绝卖家的方案；拒绝后转平台客服审核。")
    if s == Stage.AWAITING_SELLER:
        return _("等待卖家答复。您可以补充材料、催一催，或撤销申请。")
    if s == Stage.PLATFORM_REVIEW:
        return _("平台客服审核中。您可以补充材料、催一催，或撤销申请。")
    if s == Stage.NEEDS_INFO:
        return _("请在时限内通过下方“补充材料”提交；其间审核计时暂停。")
    if s in (Stage.APPROVED, Stage.PARTIALLY_APPROVED, Stage.REFUNDING):
        return _("您无需操作，退款正在进行，完成后会通知您。")
    if s == Stage.FINANCE_REVIEW:
        return _("您无需操作，财务复核通过后立即退款。")
    if s == Stage.REJECTED:
        return _("如不同意处理结果，可在时限内申诉，由客服主管复核。")
    if s == Stage.APPEALED:
        return _("客服主管正在复核您的申诉。您可以补充材料或催一催。")
    if s == Stage.REFUNDED:
        return _("退款已完成。")
    if s == Stage.REPLACEMENT:
        return _("已为您补发，请到订单页查看。")
    if s == Stage.CANCELLED:
        return _("申请已撤销。如仍有问题，可重新申请。")
    return ""


def status_box(case: RefundCase, *, viewer_is_buyer: bool = False) -> dict:
    """Everything the prominent box says: who, until when, why, what the buyer can do, what happens by itself."""
    holder = holder_label(case, viewer_is_buyer=viewer_is_buyer)
    box = {
        "holder": holder,
        "holder_code": case.holder,
        "reason": case.why,
        "deadline": case.deadline_at if case.is_open or case.stage == Stage.REJECTED else None,
        "time_left": "",
        "task": _holder_task(case),
        "if_no_action": case.if_no_action,
        "buyer_can_do": buyer_can_do(case),
        "refunded": case.stage == Stage.REFUNDED,
        "clause": clause_label(case.decision_clause) if case.decision_clause else "",
    }
    if box["deadline"]:
        box["time_left"] = time_left(box["deadline"])
    return box


def payouts_of(case: RefundCase):
    return list(case.payouts.order_by("id"))


def refund_destination(case: RefundCase, payouts) -> str:
    methods = {p.method for p in payouts} or {case.refund_to}
    names = []
    if RefundTo.BALANCE in methods:
        names.append(_("平台余额（即时到账，可在钱包查看）"))
    if RefundTo.ORIGINAL in methods:
        names.append(_("原支付方式（原路退回）"))
    return _("、").join(names)


# --- buyer actions available now ------------------------------------------------------------------


def buyer_actions(case: RefundCase, buyer) -> dict:
    """What the buyer's page offers now: the engine's own rules (`actions.buyer`), asked on a
    plain read. A follow-up spent in the last 24 hours shows as offered-but-waiting."""
    now = timezone.now()
    allowed_at = buyer_rules.next_follow_up(case)
    waiting = allowed_at is not None and now < allowed_at
    return {
        "add_material": may(buyer_rules.check_add_material, case, buyer),
        "cancel": may(buyer_rules.check_cancel, case, buyer),
        # Asked as of when the 24 hours end: every other reason to refuse still counts.
        "follow_up": may(buyer_rules.check_follow_up, case, buyer, allowed_at if waiting else now),
        "next_follow_up": allowed_at if waiting else None,
        "appeal": may(check_appeal, case, buyer, now),
        "answer_offer": may(check_answer_offer, case, buyer),
    }


def offer_text(case: RefundCase) -> str:
    if case.seller_offer == SellerOffer.PARTIAL:
        return _("卖家提出部分退款 %(a)s") % {"a": yuan(case.seller_offer_amount)}
    if case.seller_offer == SellerOffer.REPLACEMENT:
        return _("卖家提出更换商品（补发）")
    return ""


# --- timeline -------------------------------------------------------------------------------------


def held_seller_notes(case: RefundCase) -> list[dict]:
    """The seller's notes on `case` the scam filter held: staff read them whole, the buyer never."""
    held = Event.objects.filter(stream=case.stream, kind=EventKind.SELLER_ANSWER, data__held=True)
    return [
        {"at": e.created_at, "note": e.data.get("held_note", ""), "categories": e.data.get("scam", [])}
        for e in held.order_by("seq")
    ]


def events_of(case: RefundCase):
    return Event.objects.filter(stream=case.stream).select_related("actor").order_by("seq")


def timeline(
    case: RefundCase, *, viewer_is_buyer: bool = False, messages_for: case_hooks.Audience | None = None
) -> list[dict]:
    """The case's events, oldest first; with `messages_for`, the customer-service messages about
    its order that reader may see, interleaved in time (a seller reads none)."""
    items = []
    events = list(events_of(case))
    clauses = clause_labels(e.clause for e in events)
    for e in events:
        items.append(
            {
                "at": e.created_at,
                "actor": actor_label(e, case, viewer_is_buyer=viewer_is_buyer),
                "text": event_sentence(e, case),
                "clause": clauses[e.clause] if e.clause else "",
                "kind": e.kind,
            }
        )
    if messages_for is not None:
        items = sorted(items + case_hooks.case_messages(case, messages_for), key=lambda item: item["at"])
    return items


def actor_label(e: Event, case: RefundCase, *, viewer_is_buyer: bool = False) -> str:
    if e.actor_id is None:
        return _("系统")
    if e.actor_id == case.buyer_id:
        return _("我") if viewer_is_buyer else _("买家")
    if e.actor_id == case.seller.owner_id:
        return _("卖家")
    if e.actor is not None and e.actor.agent_no:
        if e.kind == EventKind.FINANCE_DECISION:  # whatever else they do, here they act as finance
            return _("财务 %(no)s") % {"no": e.actor.agent_no}
        return e.actor.public_name
    return e.actor_label or _("平台")


# --- facts ----------------------------------------------------------------------------------------


def facts_rows(case: RefundCase) -> list[tuple[str, str]]:
    """The verified order facts stored on the case, as label/value rows."""
    f = case.facts or {}
    rows = [
        (_("订单号"), f.get("order_no", case.order.no)),
        (
            _("商品"),
            "%s ×%s" % (f.get("product", case.order.product.name), f.get("quantity", case.order.quantity)),
        ),
        (_("金额"), yuan(f.get("amount", case.order.amount))),
        (_("支付时间"), local(f.get("paid_at")) or "—"),
    ]
    pays = f.get("payments") or []
    if pays:
        rows.append(
            (
                _("成功付款"),
                _("；").join(
                    "%s %s %s" % (p.get("out_trade_no", ""), yuan(p.get("amount")), local(p.get("paid_at")))
                    for p in pays
                ),
            )
        )
    if f.get("delivered_at"):
        rows.append((_("发货时间"), local(f["delivered_at"])))
    if f.get("keys_assigned") is not None and case.order.kind == "card_key":
        rows.append((_("已发卡密"), str(f.get("keys_assigned"))))
        rows.append((_("卡密首次查看"), local(f.get("keys_viewed_at")) or _("从未查看")))
    if f.get("supplier_result"):
        result = f["supplier_result"]
        labels = dict(SupplierResult.choices)
        rows.append((_("供应商结果"), labels.get(result, result)))
    if f.get("activated_at"):
        rows.append((_("激活时间"), local(f["activated_at"])))
    if f.get("verified"):
        rows.append((_("系统核验"), say(f["verified"])))
    return rows
