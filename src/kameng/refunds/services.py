"""The refund engine. Every public function is one transaction that locks the order (and the case),
checks the actor's right, moves the case through `stages.TRANSITIONS` and appends its events.

Lock order everywhere: order row, then case row. Delivery (orders.services) takes the same order
lock, so a refund and a delivery of one order are decided one after the other.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kameng.accounts.models import Notice, Role, User
from kameng.catalog.models import GoodsKind
from kameng.choices import label
from kameng.db import prepared
from kameng.db.prepared import PreparedQuery
from kameng.evidence.services import append_event, new_event
from kameng.evidence.uploads import MAX_FILES, UploadError, inspect
from kameng.orders import aftersales
from kameng.orders.models import OrderStatus, PayMethod
from kameng.orders.services import OrderError, locking, yuan
from kameng.wallet import services as wallet
from kameng.wallet.services import Line
from kameng.workdays.calendar import deadline as compute_deadline

from . import policy
from .models import (
    Attachment,
    Deadline,
    Demand,
    Holder,
    Payout,
    Reason,
    RefundCase,
    RefundTo,
    Stage,
)
from .stages import CLOSED, can_move

FOLLOW_UP_EVERY = timedelta(hours=24)
_REASONS, _DEMANDS, _REFUND_TOS = (
    frozenset(Reason.values),
    frozenset(Demand.values),
    frozenset(RefundTo.values),
)
GATEWAY_REFUND_HOURS = 1  # clause 2's hour; the sandbox answers within seconds
SUPPLIER_RECHECK_EVERY = timedelta(minutes=1)


class RefundError(Exception):
    """A request the engine refuses; the message is for the person, in their language."""


class NotFound(RefundError):
    """The order or case does not exist for this person (answered like a missing one: 404)."""


# --- verification ---------------------------------------------------------------------------------


@dataclass
class Verdict:
    """What the facts say. action: refund | revoke_refund | replace | wait_supplier | route."""

    action: str
    fact: str
    clause: int | None = None
    amount: int = 0
    payment_ids: list[int] = field(default_factory=list)


def verify(order, *, reason: str, demand: str, amount: int, peek: bool = False) -> Verdict:
    """Check the claim against the system's own records (SPEC §4). `peek` asks nobody outside."""
    facts_kind = order.kind
    if reason == Reason.DUPLICATE_PAYMENT:
        payments = aftersales.successful_payments(order)
        if len(payments) > 1:
            # A duplicate that an earlier case already paid back is not paid back again.
            refunded = _refunded_by_payment(order)
            extra = [p for p in payments[1:] if p.amount > refunded.get(p.pk, 0)]
            owed = sum(p.amount - refunded.get(p.pk, 0) for p in extra)
            if not extra:
                return Verdict(
                    "route", _("系统查到 %(n)d 笔成功付款，多付的款项已退回") % {"n": len(payments)}
                )
            return Verdict(
                "refund",
                _("系统查到该订单有 %(n)d 笔成功付款，多付 %(extra)d 笔共 ¥%(amt)s")
                % {"n": len(payments), "extra": len(extra), "amt": yuan(owed)},
                clause=2,
                amount=owed,
                payment_ids=[p.pk for p in extra],
            )
        return Verdict("route", _("系统仅查到 %(n)d 笔成功付款") % {"n": len(payments)})

    if order.status in (
        OrderStatus.PENDING,
        OrderStatus.CANCELLED,
        OrderStatus.EXPIRED,
        OrderStatus.REFUNDED,
    ):
        return Verdict("route", _("订单状态为“%(s)s”") % {"s": order.get_status_display()})

    if facts_kind == GoodsKind.CARD_KEY:
        return _verify_card_key(order, reason=reason, demand=demand, peek=peek)
    if reason == Reason.NOT_RECEIVED and facts_kind == GoodsKind.DIRECT_TOPUP:
        if order.status == OrderStatus.DELIVERY_FAILED:
            return Verdict("refund", _("供应商返回充值失败"), clause=3, amount=order.amount)
        if order.status == OrderStatus.DELIVERING:
            if not peek and aftersales.recheck_topup(order) == "failed":
                return Verdict("refund", _("供应商返回充值失败"), clause=3, amount=order.amount)
            if order.status == OrderStatus.DELIVERING or peek:
                return Verdict("wait_supplier", _("充值结果未知，系统正在向供应商查询"), clause=3)
        if order.status == OrderStatus.PAID:
            return Verdict("refund", _("系统未查到充值记录"), clause=3, amount=order.amount)
        return Verdict("route", _("供应商返回充值成功（%(t)s）") % {"t": _fmt(order.delivered_at)})
    if reason == Reason.NOT_RECEIVED and facts_kind == GoodsKind.ACTIVATION:
        if order.status == OrderStatus.PAID:
            return Verdict("refund", _("系统未查到激活记录"), clause=3, amount=order.amount)
        return Verdict("route", _("系统记录已于 %(t)s 激活") % {"t": _fmt(order.delivered_at)})
    if facts_kind == GoodsKind.CUSTOM_SERVICE and order.status == OrderStatus.PAID:
        return Verdict("route", _("卖家尚未交付"))
    if facts_kind == GoodsKind.CUSTOM_SERVICE:
        return Verdict("route", _("卖家已于 %(t)s 交付") % {"t": _fmt(order.delivered_at)})
    return Verdict("route", _("订单状态为“%(s)s”") % {"s": order.get_status_display()})


def _verify_card_key(order, *, reason: str, demand: str, peek: bool) -> Verdict:
    assigned = [k for k in aftersales.keys_of(order) if k.status == "assigned"]
    if not assigned:
        if order.status == OrderStatus.PAID:
            return Verdict("refund", _("系统未给该订单分配卡密（缺货未发货）"), clause=3, amount=order.amount)
        return Verdict("route", _("该订单没有有效卡密"))
    viewed = [k.viewed_at for k in assigned if k.viewed_at]
    window = timedelta(days=policy.param(4, "days", 7))
    delivered_at = order.delivered_at or min(k.assigned_at for k in assigned)
    if not viewed:
        if timezone.now() - delivered_at <= window:
            return Verdict(
                "revoke_refund",
                _("卡密于 %(t)s 发放，买家从未查看，未兑换") % {"t": _fmt(delivered_at)},
                clause=4,
                amount=order.amount,
            )
        return Verdict("route", _("卡密未查看，但已超过 %(d)d 天退货期") % {"d": window.days})
    if reason != Reason.INVALID_KEY:
        return Verdict("route", _("卡密已于 %(t)s 被查看") % {"t": _fmt(min(viewed))})
    if peek:
        return Verdict(
            "route", _("卡密已于 %(t)s 被查看，提交后系统将向供应商查询是否已兑换") % {"t": _fmt(min(viewed))}
        )
    answer = aftersales.key_redemption(order)
    if answer in ("not_redeemed", "bad_batch"):
        fact = _("卡密已于 %(t)s 被查看；供应商确认%(what)s") % {
            "t": _fmt(min(viewed)),
            "what": _("该批次有问题") if answer == "bad_batch" else _("卡密未被兑换"),
        }
        return Verdict("replace", fact, clause=11, amount=order.amount)
    if answer == "redeemed":
        return Verdict("route", _("卡密已于 %(t)s 被查看；供应商确认卡密已被兑换") % {"t": _fmt(min(viewed))})
    return Verdict("route", _("卡密已于 %(t)s 被查看；供应商暂未答复是否兑换") % {"t": _fmt(min(viewed))})


def _refunded_by_payment(order, holdings: aftersales.Holdings | None = None) -> dict[int, int]:
    """What the cases of this order have already sent back, per payment."""
    out: dict[int, int] = {}
    if holdings is not None and holdings.total == sum(
        p.amount for p in aftersales.successful_payments(order)
    ):
        return out  # everything paid is still held: nothing was ever sent back
    rows = Payout.objects.filter(case__order=order, payment__isnull=False).values_list("payment_id", "amount")
    for payment_id, amount in rows:
        out[payment_id] = out.get(payment_id, 0) + amount
    return out


def _fmt(dt) -> str:
    return timezone.localtime(dt).strftime("%Y-%m-%d %H:%M") if dt else "—"


# --- statement (事实+依据) -----------------------------------------------------------------------

DEMAND_TEXT = {
    Demand.FULL_REFUND: gettext_lazy("全额退款 ¥%(amount)s"),
    Demand.PARTIAL_REFUND: gettext_lazy("部分退款 ¥%(amount)s"),
    Demand.REPLACEMENT: gettext_lazy("更换商品（补发）"),
}


def draft_statement(order, *, reason: str, demand: str, amount: int, verdict: Verdict | None = None) -> str:
    verdict = verdict or verify(order, reason=reason, demand=demand, amount=amount, peek=True)
    c = policy.clause(verdict.clause or policy.basis_clause(reason, order.kind))
    paid = _fmt(order.paid_at or order.created_at)
    lines = [
        _("我做了什么：我于 %(t)s 购买“%(p)s”×%(q)d（订单号 %(no)s），支付 ¥%(amt)s（%(m)s）。")
        % {
            "t": paid,
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


# --- helpers --------------------------------------------------------------------------------------


def _event(case: RefundCase, kind: str, *, actor=None, clause: str = "", **data) -> None:
    label = ""
    if actor is None:
        label = "系统"
    elif actor.agent_no:
        label = f"客服 {actor.agent_no}"
    # The case row is locked for the whole service call, so the chain head we wrote last is still
    # the head: keep it on the object instead of reading it back before every event. A case being
    # assembled (deferred save) collects its events and writes them in one statement at the end.
    fields = {
        "stream": case.stream,
        "kind": kind,
        "actor": actor,
        "actor_label": label,
        "data": data,
        "clause": clause,
        "head": case.__dict__.get("_chain_head"),
    }
    pending = case.__dict__.get("_pending_events")
    event = new_event(**fields) if pending is not None else append_event(**fields)
    if pending is not None:
        pending.append(event)
    case._chain_head = (event.seq, event.hash)


def _add_deadline(**fields) -> Deadline:
    fields["case"].__dict__["_no_deadlines"] = False
    return Deadline.objects.create(**fields)


# What a new case's request fixes once and for all; its single save at the end writes the rest.
_SET_AT_FILING = {
    "id",
    "order",
    "buyer",
    "seller",
    "reason",
    "demand",
    "amount_requested",
    "refund_to",
    "description",
    "statement",
    "channel",
    "created_by",
    "created_at",
}
_CHANGED_AFTER_FILING = sorted(
    f.name for f in RefundCase._meta.concrete_fields if f.name not in _SET_AT_FILING
)


def _save(case: RefundCase, fields: list[str] | None = None) -> None:
    """Save the case, unless the service is still assembling a new one (it saves once at the end)."""
    if case.__dict__.get("_deferred_save"):
        return
    if fields is None:
        case.save()
    else:
        case.save(update_fields=fields)


def _lock(case_id: int) -> tuple[RefundCase, object]:
    """Lock the order, then the case (the order first, always)."""
    order_id = RefundCase.objects.filter(pk=case_id).values_list("order_id", flat=True).first()
    if order_id is None:
        raise RefundError(_("退款申请不存在。"))
    order = aftersales.lock_order(order_id)
    case = RefundCase.objects.select_for_update().select_related("seller", "buyer").get(pk=case_id)
    return case, order


def _deadline_in(
    *,
    hours: float | None = None,
    working_days: int | None = None,
    days: int | None = None,
    start: datetime | None = None,
) -> datetime:
    start = start or timezone.now()
    if working_days is not None:
        due = compute_deadline(start, working_days, "working_days")
    else:
        due = compute_deadline(start, days * 24 if days is not None else hours, "hours")
    # Stored and answered in UTC, as the database gives it back (pages show it in Asia/Shanghai).
    return due.astimezone(UTC)


def _move(
    case: RefundCase,
    target: str,
    *,
    holder: str,
    reason: str,
    actor=None,
    holder_user=None,
    due: datetime | None = None,
    due_kind: str = "",
    due_action: str = "",
    clause: str = "",
) -> None:
    if not can_move(case.stage, target):
        raise RefundError(_("当前阶段（%(s)s）不能执行该操作。") % {"s": case.get_stage_display()})
    now = timezone.now()
    if not case.__dict__.get("_no_deadlines"):
        Deadline.objects.filter(case=case, done_at__isnull=True).update(done_at=now, outcome="superseded")
    previous = case.stage
    case.stage = target
    case.holder = holder
    case.holder_user = holder_user
    case.stage_reason = reason[:300]
    case.deadline_at = due
    case.deadline_action = due_action[:200] if due else ""
    case.is_open = target not in CLOSED
    if not case.is_open:
        case.closed_at = now
    _save(case)
    if due:
        _add_deadline(case=case, kind=due_kind or target, stage=target, due_at=due)
    _event(
        case,
        "stage_changed",
        actor=actor,
        clause=clause,
        **{
            "from": previous,
            "to": target,
            "holder": holder,
            "holder_user": holder_user.agent_no if holder_user is not None and holder_user.agent_no else None,
            "deadline": due.isoformat() if due else None,
            "reason": reason,
            "if_no_action": case.deadline_action,
        },
    )


def _notify(user, text: str, case: RefundCase) -> None:
    if user is not None:
        Notice.objects.create(user=user, text=text[:300], link=f"/refunds/{case.pk}/")


def _notify_buyer(text: str, case: RefundCase) -> None:
    notice = Notice(user_id=case.buyer_id, text=text[:300], link=f"/refunds/{case.pk}/")
    later = case.__dict__.get("_later")
    if later is not None:  # a case being assembled writes its notices at its end
        later.insert([notice])
        return
    prepared.insert([notice])


# --- submission ------------------------------------------------------------------------------------


@dataclass
class EvidenceFile:
    item: str
    file: object


def _check_actor_may_file(order, actor) -> None:
    if actor.pk == order.buyer_id:
        return
    if actor.has_role(Role.AGENT, Role.SUPERVISOR):
        return
    raise NotFound(_("订单不存在。"))


def _store_evidence(case: RefundCase, files: list[EvidenceFile], actor) -> list[Attachment]:
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
            case=case,
            item=ev.item[:40],
            original_name=name,
            content_type=mime,
            size=size,
            sha256=digest,
            uploaded_by=actor,
        )
        att.file.save(f"{case.pk}-{digest[:16]}", ev.file, save=False)
        att.save()
        stored.append(att)
        _event(
            case,
            "evidence_added",
            actor=actor,
            item=att.item,
            name=name,
            sha256=digest,
            size=size,
            content_type=mime,
        )
    return stored


def missing_evidence(reason: str, kind: str, files: list[EvidenceFile]) -> list[str]:
    given = {f.item for f in files}
    return [item["label"] for item in policy.evidence_items(reason, kind) if item["code"] not in given]


def submit_refund(
    *,
    actor,
    reason: str,
    demand: str,
    order=None,
    order_no: str = "",
    amount: int | None = None,
    description: str = "",
    statement: str = "",
    evidence: list[EvidenceFile] | None = None,
    refund_to: str = RefundTo.BALANCE,
    channel: str = "web",
) -> RefundCase:
    """A refund request (by the buyer, or by an agent on the buyer's behalf) for `order`, or for
    the order numbered `order_no` (looked up and authorised under its lock: one statement saved).
    Objective cases are decided and paid inside this call; the others land with a holder and a
    deadline."""
    evidence = evidence or []
    if reason not in _REASONS:
        raise RefundError(_("请选择退款原因。"))
    if demand not in _DEMANDS:
        raise RefundError(_("请选择诉求：全额退款、部分退款或更换商品。"))
    if refund_to not in _REFUND_TOS:
        raise RefundError(_("请选择退款去向。"))
    if order is not None:
        _check_actor_may_file(order, actor)
        _check_evidence(reason, order.kind, evidence)
    try:
        with transaction.atomic():
            return _submit_locked(
                order_id=order.pk if order is not None else None,
                order_no=order_no,
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
        if _breaks(e, "one_open_case_per_order"):  # another open case won the race
            raise RefundError(_("该订单已有一个进行中的退款申请。")) from e
        # Anything else is a race this request lost; it was rolled back whole.
        raise RefundError(_("提交未成功，没有做任何更改，请重试。")) from e


def _breaks(error: IntegrityError, constraint: str) -> bool:
    """Whether `error` is a violation of the named constraint (PostgreSQL names it; SQLite names
    the columns of a unique index instead)."""
    diag = getattr(error.__cause__, "diag", None)
    if diag is not None and diag.constraint_name:
        return diag.constraint_name == constraint
    return constraint == "one_open_case_per_order" and "refunds_refundcase.order_id" in str(error)


def _check_evidence(reason: str, kind: str, evidence: list[EvidenceFile]) -> None:
    missing = missing_evidence(reason, kind, evidence)
    if missing:
        raise RefundError(
            _("还缺少以下材料：%(m)s。请一次提交齐全，避免来回补充。") % {"m": "；".join(missing)}
        )


_LOCK_BY_ID = PreparedQuery(lambda pk: locking(pk=pk), pk=int)
_LOCK_BY_NO = PreparedQuery(lambda no: locking(no=no), no=str)
# Read with the order's facts, after its lock was granted: a case filed by whoever held the lock
# before is seen (every filing takes the order lock first).
_OPEN_CASE = PreparedQuery(
    lambda order_id: RefundCase.objects.filter(order_id=order_id, is_open=True).values_list("pk")[:1],
    order_id=int,
)
# Keys for the new case and its refund's ledger transaction, taken with the facts (PostgreSQL): both
# rows are then written with everything else at the end, in one message.
_CASE_KEY = prepared.NextKey(RefundCase)


def _submit_locked(
    *,
    order_id,
    order_no,
    actor,
    reason,
    demand,
    amount,
    description,
    statement,
    evidence,
    refund_to,
    channel,
):
    found = _LOCK_BY_ID.fetch(pk=order_id) if order_id is not None else _LOCK_BY_NO.fetch(no=order_no)
    if not found:
        raise NotFound(_("订单不存在。"))
    order = found[0]
    if order_id is None:
        _check_actor_may_file(order, actor)
        _check_evidence(reason, order.kind, evidence)
    holdings, (open_case, case_key, txn_key) = aftersales.load_facts(
        order, (_OPEN_CASE, {"order_id": order.pk}), (_CASE_KEY, {}), (wallet.TRANSACTION_KEY, {})
    )
    if open_case:
        raise RefundError(_("该订单已有一个进行中的退款申请。"))
    if (
        order.status in (OrderStatus.PENDING, OrderStatus.CANCELLED, OrderStatus.EXPIRED)
        and reason != Reason.DUPLICATE_PAYMENT
    ):
        raise RefundError(_("该订单未支付，无需退款。"))
    held = holdings.total
    if held <= 0:
        raise RefundError(_("该订单已无可退款项。"))
    if demand == Demand.PARTIAL_REFUND:
        if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
            raise RefundError(_("请填写大于 0 的部分退款金额。"))
        if amount > min(held, order.amount):
            raise RefundError(
                _("部分退款金额不能超过可退金额 ¥%(amt)s。") % {"amt": yuan(min(held, order.amount))}
            )
    else:
        amount = min(held, order.amount)
    verdict = verify(order, reason=reason, demand=demand, amount=amount)
    if reason == Reason.DUPLICATE_PAYMENT:
        if verdict.action != "refund":
            # Approving it would pay back the order's own payment while the buyer keeps the goods.
            raise RefundError(
                _(
                    "系统未查到该订单有未退回的重复付款（%(f)s）。如银行流水显示扣款两次，请选择“其他”并上传流水截图。"
                )
                % {"f": verdict.fact}
            )
        amount = verdict.amount
    facts = aftersales.order_facts(order, escrow=held)
    facts["verified"] = verdict.fact
    case = RefundCase(
        order=order,
        buyer_id=order.buyer_id,
        seller=order.seller,
        reason=reason,
        demand=demand,
        amount_requested=amount,
        refund_to=refund_to,
        description=description.strip()[:5000],
        channel=channel[:20],
        created_by=actor,
        stage=Stage.SUBMITTED,
        holder=Holder.SYSTEM,
        facts=facts,
        statement=(
            statement.strip()
            or draft_statement(order, reason=reason, demand=demand, amount=amount, verdict=verdict)
        )[:5000],
    )
    if case_key:  # written at the end, as it stands then (PostgreSQL checks the rows naming it at commit)
        case.pk = case_key[0]
        case.created_at = timezone.now()  # filed now, before its events; kept when it is written
        case._txn_key = txn_key[0]
    else:  # no sequence to take a key from (SQLite): written now, and updated at the end
        prepared.insert([case])
    # A case made in this call: its event chain starts empty, it has no deadlines yet, and its row
    # is written once at the end instead of after every stage it passes through. What the order
    # holds was read under the order lock above and stays true until the first payout.
    case._chain_head = (0, "")
    case._no_deadlines = True
    case._fresh = True
    case._deferred_save = True
    case._pending_events = []
    case._later = prepared.Later()
    case._holdings = holdings
    _event(
        case,
        "submitted",
        actor=actor,
        reason=reason,
        demand=demand,
        amount=amount,
        channel=channel,
        refund_to=refund_to,
        on_behalf=actor.pk != order.buyer_id,
    )
    case.stored_attachments = _store_evidence(case, evidence, actor)
    _move(case, Stage.VERIFYING, holder=Holder.SYSTEM, reason=_("系统正在核对订单、支付和发货记录"))
    _event(
        case,
        "verified",
        fact=verdict.fact,
        action=verdict.action,
        clause=policy.clause(verdict.clause).ref if verdict.clause else "",
    )
    _apply_verdict(case, order, verdict)
    case._deferred_save = False
    events = case.__dict__.pop("_pending_events")
    later = case.__dict__.pop("_later")
    if case_key:
        later.insert([case])
    else:
        later.update(case, _CHANGED_AFTER_FILING)
    later.insert(events)
    # Everything left needs no answer: on PostgreSQL it goes in one round trip.
    later.flush()
    case.__dict__.pop("_holdings", None)
    case.__dict__.pop("_txn_key", None)
    return case


def _apply_verdict(case: RefundCase, order, verdict: Verdict) -> None:
    if verdict.action in ("refund", "revoke_refund"):
        c = policy.clause(verdict.clause)
        # Voiding the order leaves the buyer nothing, so all that was paid for it goes back, even if
        # the buyer asked for part of it (a voided order refunded in part would keep the rest).
        amount = verdict.amount if case.reason == Reason.DUPLICATE_PAYMENT else _full_amount(case, order)
        _approve(
            case,
            order,
            amount=amount,
            actor=None,
            clause=c,
            system=True,
            reason=_("系统核验：%(f)s，按第%(n)d条自动退款") % {"f": verdict.fact, "n": c.number},
            void=case.reason != Reason.DUPLICATE_PAYMENT,
            revoke_keys=verdict.action == "revoke_refund",
            payment_ids=verdict.payment_ids,
        )
    elif verdict.action == "replace":
        _try_replacement(case, order, verdict)
    elif verdict.action == "wait_supplier":
        c = policy.clause(3)
        # The system is asking the supplier (and re-asks every minute); a person in tech
        # verification takes over only if the supplier is still silent at the deadline.
        case.holder = Holder.SYSTEM
        case.stage_reason = verdict.fact
        case.deadline_at = _deadline_in(hours=c.params.get("hours", 24))
        case.deadline_action = _("逾期供应商仍未答复，将转技术核验人员优先处理")
        _save(case)
        _add_deadline(case=case, kind="supplier_answer", stage=Stage.VERIFYING, due_at=case.deadline_at)
        _schedule_recheck(case)
        _event(case, "waiting_supplier", clause=c.ref, deadline=case.deadline_at.isoformat())
    else:
        _route(case, order, fact=verdict.fact)


def _schedule_recheck(case, now: datetime | None = None) -> None:
    """Ask the supplier again soon. A timer row (not a scan of every waiting case) keeps the tick's
    cost to what is due."""
    _add_deadline(
        case=case,
        kind="supplier_recheck",
        stage=Stage.VERIFYING,
        due_at=(now or timezone.now()) + SUPPLIER_RECHECK_EVERY,
    )


def _holdings(case, order) -> aftersales.Holdings:
    """What the order holds: as read under the lock by this call, or read now."""
    return case.__dict__.get("_holdings") or aftersales.holdings(order)


def _full_amount(case, order) -> int:
    return min(_holdings(case, order).total, order.amount)


def _try_replacement(case, order, verdict: Verdict) -> None:
    c = policy.clause(11)
    wants_money = case.demand != Demand.REPLACEMENT
    if wants_money:
        _approve(
            case,
            order,
            amount=_full_amount(case, order),
            actor=None,
            clause=c,
            system=True,
            reason=_("系统核验：%(f)s，按第%(n)d条自动退款") % {"f": verdict.fact, "n": c.number},
            void=True,
            revoke_keys=True,
        )
        return
    per_order = RefundCase.objects.filter(order=order, stage=Stage.REPLACEMENT).count()
    since = timezone.now() - timedelta(days=1)
    per_seller = RefundCase.objects.filter(
        seller=order.seller, stage=Stage.REPLACEMENT, closed_at__gte=since
    ).count()
    if (
        per_order >= c.params.get("max_replacements_per_order", 1)
        or per_seller >= order.seller.max_auto_replacements
    ):
        _route(case, order, fact=verdict.fact + _("；自动补发次数已达上限，转人工审核"), force_review=True)
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
        _approve(
            case,
            order,
            amount=_full_amount(case, order),
            actor=None,
            clause=c,
            system=True,
            reason=_("系统核验：%(f)s；库存不足无法补发，按第%(n)d条自动退款")
            % {"f": verdict.fact, "n": c.number},
            void=True,
            revoke_keys=True,
        )
        return
    _move(
        case,
        Stage.REPLACEMENT,
        holder=Holder.NOBODY,
        clause=c.ref,
        reason=_("系统核验：%(f)s，已从库存补发新卡密") % {"f": verdict.fact},
    )
    case.decision_clause = c.ref
    _save(case, ["decision_clause"])
    _notify_buyer(_("您的订单 %(no)s 已补发新卡密，请在订单页查看。") % {"no": order.no}, case)


def _route(case, order, *, fact: str, force_review: bool = False) -> None:
    if not order.seller.is_platform and not force_review:
        c = policy.clause(6)
        due = _deadline_in(hours=c.params.get("hours", 48))
        _move(
            case,
            Stage.AWAITING_SELLER,
            holder=Holder.SELLER,
            clause=c.ref,
            due=due,
            due_kind="seller_answer",
            reason=_("系统核验：%(f)s；需要卖家“%(s)s”处理") % {"f": fact, "s": order.seller.name},
            due_action=_("卖家逾期未处理，系统将自动同意退款"),
        )
        if order.seller.owner_id:
            Notice.objects.create(
                user=order.seller.owner,
                text=_("订单 %(no)s 有新的退款申请，请在 48 小时内处理。") % {"no": order.no},
                link=f"/refunds/seller/{case.pk}/",
            )
        return
    _to_review(case, reason=_("系统核验：%(f)s；转平台客服审核") % {"f": fact})


def _review_due(case, start=None) -> datetime:
    c = policy.clause(5)
    if case.order.kind == GoodsKind.CUSTOM_SERVICE:
        return _deadline_in(working_days=c.params.get("working_days", 3), start=start)
    return _deadline_in(hours=c.params.get("other_review_hours", 24), start=start)


def _to_review(case, *, reason: str, actor=None, due: datetime | None = None, holder_user=None) -> None:
    _move(
        case,
        Stage.PLATFORM_REVIEW,
        holder=Holder.AGENT,
        holder_user=holder_user,
        actor=actor,
        due=due or _review_due(case),
        due_kind="review",
        clause=policy.clause(5).ref,
        reason=reason,
        due_action=_("逾期未处理，将升级至客服主管处理"),
    )


# --- approval and money -------------------------------------------------------------------------------


def _approve(
    case,
    order,
    *,
    amount: int,
    actor,
    clause,
    reason: str,
    system: bool = False,
    void: bool = False,
    revoke_keys: bool = False,
    payment_ids: list[int] | None = None,
    partial: bool = False,
) -> None:
    target = Stage.PARTIALLY_APPROVED if partial else Stage.APPROVED
    # Never more than the order still holds: an earlier case may have paid part of it back.
    held = _holdings(case, order).total
    if held <= 0:
        raise RefundError(_("该订单已无可退款项。"))
    amount = min(amount, held)
    case.amount_approved = amount
    case.approved_by = actor
    case.decision_clause = clause.ref
    _save(case, ["amount_approved", "approved_by", "decision_clause"])
    _move(case, target, holder=Holder.SYSTEM, actor=actor, clause=clause.ref, reason=reason)
    _event(case, "decision", actor=actor, clause=clause.ref, decision=target, amount=amount)
    case.facts["void_order"] = void
    case.facts["revoke_keys"] = revoke_keys
    case.facts["payment_ids"] = payment_ids or []
    _save(case, ["facts"])
    threshold = policy.param(8, "threshold", 500_00)
    if amount > threshold and not system:
        c8 = policy.clause(8)
        _move(
            case,
            Stage.FINANCE_REVIEW,
            holder=Holder.FINANCE,
            clause=c8.ref,
            due=_deadline_in(working_days=c8.params.get("working_days", 1)),
            due_kind="finance",
            reason=_("退款金额 ¥%(amt)s 超过 ¥%(t)s，需财务二次审核")
            % {"amt": yuan(amount), "t": yuan(threshold)},
            due_action=_("逾期未审核，将提醒客服主管督办"),
        )
        return
    _execute(case, order)


def _execute(case, order) -> None:
    """Move the money (idempotent per case), then void/revoke as decided. The caller holds both locks."""
    amount = case.amount_approved or 0
    _move(case, Stage.REFUNDING, holder=Holder.SYSTEM, reason=_("正在退款 ¥%(amt)s") % {"amt": yuan(amount)})
    holdings = _holdings(case, order)
    case.__dict__.pop("_holdings", None)  # the payouts below change it
    if case.facts.get("void_order"):
        aftersales.void_for_refund(
            order,
            revoke_keys=bool(case.facts.get("revoke_keys")),
            collect=case.__dict__.get("_pending_events"),
            later=case.__dict__.get("_later"),
        )
    payments = {p.pk: p for p in aftersales.successful_payments(order)}
    to_original = case.refund_to == RefundTo.ORIGINAL and order.pay_method == PayMethod.GATEWAY
    # Each payment gives back at most what it brought in, less what earlier cases already sent back
    # through it, and the parts add up to the approved amount (never to the payments' face value).
    refunded = _refunded_by_payment(order, holdings)
    plan: list[tuple[int, object]] = []
    left = amount
    for pid in case.facts.get("payment_ids") or list(payments):
        payment = payments.get(pid)
        take = min(left, payment.amount - refunded.get(pid, 0)) if payment is not None else 0
        if take > 0:
            plan.append((take, payment))
            left -= take
    if left > 0:
        plan.append((left, None))
    pending = False
    escrow = wallet.escrow_code(order.pk)
    escrow_left = holdings.escrow
    fresh = bool(case.__dict__.get("_fresh"))
    later = case.__dict__.get("_later")  # a case being filed writes its rows at the end
    # Payout keys are per case and the case is locked: one read tells which parts already exist.
    done = set() if fresh else set(case.payouts.values_list("key", flat=True))
    for n, (part, payment) in enumerate(plan, start=1):
        key = f"refund:{case.pk}:{n}"
        if key in done:
            continue
        gateway = to_original and payment is not None and payment.method == PayMethod.GATEWAY
        target = wallet.GATEWAY if gateway else wallet.buyer_code(order.buyer_id)
        # Escrow first; what was already settled to the seller (or revenue) is clawed back from it.
        from_escrow = min(part, escrow_left)
        wallet.post(
            key=key,
            kind="refund",
            reference=order.no,
            memo=f"case {case.pk}",
            lines=[
                Line(escrow, -from_escrow),
                Line(aftersales.payee(order), -(part - from_escrow)),
                Line(target, part),
            ],
            # A fresh case's keys are new; the escrow was read under the order lock we hold.
            new_key=fresh,
            known_balances={escrow: escrow_left},
            accounts=order.__dict__.get("_facts_accounts"),
            later=later,
            txn_id=case.__dict__.pop("_txn_key", None),
        )
        escrow_left -= from_escrow
        payout = Payout(case=case, key=key, amount=part, payment=payment)
        if gateway:
            from kameng.orders.models import GatewayRefund

            payout.method = RefundTo.ORIGINAL
            payout.gateway_refund = GatewayRefund.objects.create(key=key, payment=payment, amount=part)
            pending = True
            payout.save(force_insert=True)
            transaction.on_commit(lambda pid=payout.pk: _enqueue_gateway_refund(pid))
        else:
            payout.method = RefundTo.BALANCE
            payout.status = Payout.Status.SUCCEEDED
            payout.completed_at = timezone.now()
            if later is not None:  # nothing reads a balance payout's id before the commit
                later.insert([payout])
            else:
                prepared.insert([payout], keys=False)
        _event(case, "payout", amount=part, method=payout.method, key=key)
    if not pending:
        _finish(case)
        return
    # Money on its way back through the gateway: the buyer sees until when, and what happens if the
    # gateway has still not confirmed by then (finance checks it with the channel).
    case.deadline_at = _deadline_in(hours=GATEWAY_REFUND_HOURS)
    case.deadline_action = _("逾期仍未到账，将转财务与支付通道核查")
    case.stage_reason = _("正在原路退回 ¥%(amt)s，到账以支付通道为准") % {"amt": yuan(amount)}
    _save(case)
    _add_deadline(case=case, kind="gateway_refund", stage=Stage.REFUNDING, due_at=case.deadline_at)


def _enqueue_gateway_refund(payout_id: int) -> None:
    from .tasks import gateway_refund_task

    gateway_refund_task.enqueue(payout_id)


def _finish(case) -> None:
    _move(
        case,
        Stage.REFUNDED,
        holder=Holder.NOBODY,
        reason=_("已退款 ¥%(amt)s（%(to)s）")
        % {"amt": yuan(case.amount_approved or 0), "to": label(RefundTo, case.refund_to)},
    )
    _notify_buyer(
        _("退款 ¥%(amt)s 已完成（订单 %(no)s）。")
        % {"amt": yuan(case.amount_approved or 0), "no": case.order.no},
        case,
    )


def complete_gateway_refund(*, payout_id: int) -> str:
    """Send one gateway refund (retry-safe: the gateway deduplicates on our key)."""
    from kameng.orders.gateway import GatewayError, get_gateway
    from kameng.orders.models import GatewayRefund

    payout = Payout.objects.select_related("gateway_refund", "payment").get(pk=payout_id)
    if payout.status == Payout.Status.SUCCEEDED:
        return "already"
    gr = payout.gateway_refund
    try:
        refund_no = get_gateway(payout.payment.gateway).refund(
            key=gr.key, trade_no=payout.payment.gateway_trade_no, amount=gr.amount
        )
    except GatewayError as e:
        GatewayRefund.objects.filter(pk=gr.pk).update(
            status=GatewayRefund.Status.FAILED, last_error=str(e)[:200], attempts=F("attempts") + 1
        )
        Payout.objects.filter(pk=payout.pk).update(status=Payout.Status.FAILED)
        return "failed"
    with transaction.atomic():
        case, _order = _lock(payout.case_id)
        payout = Payout.objects.select_for_update().get(pk=payout_id)
        if payout.status == Payout.Status.SUCCEEDED:
            return "already"
        GatewayRefund.objects.filter(pk=gr.pk).update(
            status=GatewayRefund.Status.SUCCEEDED, gateway_refund_no=refund_no, attempts=F("attempts") + 1
        )
        payout.status = Payout.Status.SUCCEEDED
        payout.completed_at = timezone.now()
        payout.save(update_fields=["status", "completed_at"])
        _event(case, "gateway_refunded", amount=payout.amount, refund_no=refund_no)
        if (
            not case.payouts.exclude(status=Payout.Status.SUCCEEDED).exists()
            and case.stage == Stage.REFUNDING
        ):
            _finish(case)
    return "succeeded"


# --- seller ---------------------------------------------------------------------------------------------


def _seller_case(case_id: int, seller_user):
    case, order = _lock(case_id)
    if case.seller.owner_id != seller_user.pk:
        raise RefundError(_("退款申请不存在。"))
    if case.stage != Stage.AWAITING_SELLER or case.seller_offer:
        raise RefundError(_("该申请当前不需要您处理。"))
    return case, order


@transaction.atomic
def seller_agree(*, case_id: int, seller_user, note: str = "") -> RefundCase:
    case, order = _seller_case(case_id, seller_user)
    _event(case, "seller_answer", actor=seller_user, answer="agree", note=note[:500])
    _approve(
        case,
        order,
        amount=case.amount_requested,
        actor=seller_user,
        clause=policy.clause(6),
        reason=_("卖家同意退款"),
        void=case.amount_requested >= order.amount and case.reason != Reason.DUPLICATE_PAYMENT,
        revoke_keys=True,
        partial=case.demand == Demand.PARTIAL_REFUND,
    )
    return case


@transaction.atomic
def seller_refuse(*, case_id: int, seller_user, note: str, evidence: list[EvidenceFile]) -> RefundCase:
    case, _order = _seller_case(case_id, seller_user)
    if not note.strip() or not evidence:
        raise RefundError(_("拒绝退款需要填写理由并上传证据。"))
    _store_evidence(case, evidence, seller_user)
    _event(case, "seller_answer", actor=seller_user, answer="refuse", note=note[:2000])
    _to_review(
        case, actor=seller_user, reason=_("卖家拒绝退款：%(n)s；转平台审核") % {"n": note.strip()[:200]}
    )
    return case


@transaction.atomic
def seller_offer(
    *, case_id: int, seller_user, offer: str, amount: int | None = None, note: str = ""
) -> RefundCase:
    """A partial refund or a replacement the buyer may accept; declining sends it to platform review."""
    case, _order = _seller_case(case_id, seller_user)
    if offer == "partial":
        if not isinstance(amount, int) or isinstance(amount, bool) or not 0 < amount < case.amount_requested:
            raise RefundError(
                _("部分退款金额须大于 0 且小于买家申请的 ¥%(a)s。") % {"a": yuan(case.amount_requested)}
            )
        text = _("卖家提出部分退款 ¥%(a)s") % {"a": yuan(amount)}
    elif offer == "replacement":
        amount = None
        text = _("卖家提出更换商品（补发）")
    else:
        raise RefundError(_("请选择方案：部分退款或补发。"))
    case.seller_offer = offer
    case.seller_offer_amount = amount
    case.holder = Holder.BUYER
    case.stage_reason = text + (f"：{note.strip()[:200]}" if note.strip() else "")
    c7 = policy.clause(7)
    case.deadline_at = _deadline_in(hours=c7.params.get("hours", 72))
    case.deadline_action = _("买家逾期未回应，转平台审核")
    _save(case)
    Deadline.objects.filter(case=case, done_at__isnull=True).update(
        done_at=timezone.now(), outcome="superseded"
    )
    _add_deadline(case=case, kind="buyer_offer", stage=case.stage, due_at=case.deadline_at)
    _event(case, "seller_answer", actor=seller_user, answer=offer, amount=amount, note=note[:500])
    _notify_buyer(text + _("，请在退款进度页确认或拒绝。"), case)
    return case


@transaction.atomic
def buyer_answer_offer(*, case_id: int, buyer, accept: bool) -> RefundCase:
    case, order = _lock(case_id)
    if case.buyer_id != buyer.pk:
        raise RefundError(_("退款申请不存在。"))
    if case.stage != Stage.AWAITING_SELLER or not case.seller_offer:
        raise RefundError(_("当前没有待确认的卖家方案。"))
    _event(case, "buyer_answer_offer", actor=buyer, accept=accept, offer=case.seller_offer)
    offer, amount = case.seller_offer, case.seller_offer_amount
    case.seller_offer = ""
    _save(case, ["seller_offer"])
    if not accept:
        _to_review(case, actor=buyer, reason=_("买家不接受卖家方案，转平台审核"))
    elif offer == "partial":
        _approve(
            case,
            order,
            amount=amount,
            actor=buyer,
            clause=policy.clause(policy.basis_clause(case.reason, order.kind)),
            partial=True,
            reason=_("买家接受卖家的部分退款方案"),
        )
    else:
        _replace(case, order, actor=buyer, reason=_("买家接受卖家的补发方案"))
    return case


REPLACEABLE = {OrderStatus.PAID, OrderStatus.DELIVERY_FAILED, OrderStatus.DELIVERED, OrderStatus.COMPLETED}


def _replace(case, order, *, actor, reason: str) -> None:
    # A refunded order is never delivered again, and a top-up whose result is still unknown is not
    # sent a second time (both could land).
    if order.status not in REPLACEABLE:
        raise RefundError(_("订单状态为“%(s)s”，不能补发。") % {"s": order.get_status_display()})
    try:
        with transaction.atomic():
            aftersales.replace_goods(order)
    except OrderError as e:
        raise RefundError(str(e)) from e
    case.decision_clause = policy.clause(4).ref
    _save(case, ["decision_clause"])
    _move(
        case, Stage.REPLACEMENT, holder=Holder.NOBODY, actor=actor, reason=reason, clause=policy.clause(4).ref
    )


# --- platform review -------------------------------------------------------------------------------------


def _staff_case(case_id: int, user, *, stages: set[str], roles=(Role.AGENT, Role.SUPERVISOR)):
    if not user.has_role(*roles):
        raise RefundError(_("您没有处理退款申请的权限。"))
    case, order = _lock(case_id)
    if case.stage not in stages:
        raise RefundError(_("当前阶段（%(s)s）不能执行该操作。") % {"s": case.get_stage_display()})
    return case, order


@transaction.atomic
def request_info(*, case_id: int, agent, note: str) -> RefundCase:
    case, _order = _staff_case(case_id, agent, stages={Stage.PLATFORM_REVIEW})
    if not note.strip():
        raise RefundError(_("请写明需要买家补充的具体材料。"))
    remaining = max(case.deadline_at - timezone.now(), timedelta(0)) if case.deadline_at else None
    c7 = policy.clause(7)
    _move(
        case,
        Stage.NEEDS_INFO,
        holder=Holder.BUYER,
        actor=agent,
        clause=c7.ref,
        due=_deadline_in(hours=c7.params.get("hours", 72)),
        due_kind="buyer_info",
        reason=_("客服 %(no)s 请您补充：%(n)s") % {"no": agent.agent_no or "", "n": note.strip()[:200]},
        due_action=_("逾期未补充，将按现有材料处理"),
    )
    case.paused_remaining = remaining
    case.facts["info_requested_by"] = agent.pk  # the material goes back to whoever asked for it
    _save(case, ["paused_remaining", "facts"])
    _notify_buyer(_("客服请您补充材料：%(n)s") % {"n": note.strip()[:150]}, case)
    return case


@transaction.atomic
def add_material(
    *, case_id: int, buyer, note: str = "", evidence: list[EvidenceFile] | None = None
) -> RefundCase:
    case, _order = _lock(case_id)
    if case.buyer_id != buyer.pk:
        raise RefundError(_("退款申请不存在。"))
    if not case.is_open or case.stage in (Stage.REFUNDING, Stage.REFUNDED):
        raise RefundError(_("该申请已结束，不能再补充材料。"))
    if not note.strip() and not evidence:
        raise RefundError(_("请填写说明或上传材料。"))
    _store_evidence(case, evidence or [], buyer)
    _event(case, "material_added", actor=buyer, note=note.strip()[:2000])
    if case.stage == Stage.NEEDS_INFO:
        _resume_review(case, now=timezone.now(), actor=buyer, reason=_("买家已补充材料，审核计时恢复"))
    return case


def _resume_review(case, *, now: datetime, reason: str, actor=None) -> None:
    """Back from needs_info: the review clock restarts with what was left on it when it stopped."""
    remaining = case.paused_remaining
    due = now + remaining if remaining is not None else None
    asked_by = case.facts.get("info_requested_by")
    holder_user = User.objects.filter(pk=asked_by, is_active=True).first() if asked_by else None
    _to_review(case, actor=actor, due=due, reason=reason, holder_user=holder_user)
    case.paused_remaining = None
    _save(case, ["paused_remaining"])


DECISIONS = {"approve", "partial", "replace", "reject"}


@transaction.atomic
def decide(
    *,
    case_id: int,
    agent,
    decision: str,
    amount: int | None = None,
    clause_number: int | None = None,
    note: str = "",
) -> RefundCase:
    """An agent decides a case in review; a supervisor decides an appeal."""
    if decision not in DECISIONS:
        raise RefundError(_("请选择处理结果。"))
    case, order = _staff_case(case_id, agent, stages={Stage.PLATFORM_REVIEW, Stage.APPEALED})
    # Read under the lock: the stage decides who may decide (an appeal is the supervisor's).
    appealed = case.stage == Stage.APPEALED
    if appealed and not agent.has_role(Role.SUPERVISOR):
        raise RefundError(_("申诉由客服主管处理。"))
    if not note.strip():
        raise RefundError(_("请填写处理意见（买家会看到）。"))
    number = clause_number or (5 if order.kind == GoodsKind.CUSTOM_SERVICE else 3)
    if not policy.clause_exists(number):
        raise RefundError(_("条款号无效。"))
    c = policy.clause(number)
    case.decision_note = note.strip()[:2000]
    _save(case, ["decision_note"])
    held = aftersales.escrow_held(order)
    if decision == "approve":
        _approve(
            case,
            order,
            amount=min(case.amount_requested, held),
            actor=agent,
            clause=c,
            reason=_("客服 %(no)s 同意退款：%(n)s") % {"no": agent.agent_no or "", "n": note.strip()[:150]},
            void=case.reason != Reason.DUPLICATE_PAYMENT
            and case.demand != Demand.PARTIAL_REFUND
            and case.amount_requested >= order.amount,
            revoke_keys=True,
        )
    elif decision == "partial":
        if (
            not isinstance(amount, int)
            or isinstance(amount, bool)
            or not 0 < amount <= min(case.amount_requested, held)
        ):
            raise RefundError(
                _("部分退款金额须大于 0 且不超过 ¥%(a)s。") % {"a": yuan(min(case.amount_requested, held))}
            )
        _approve(
            case,
            order,
            amount=amount,
            actor=agent,
            clause=c,
            partial=True,
            reason=_("客服 %(no)s 同意部分退款 ¥%(a)s：%(n)s")
            % {"no": agent.agent_no or "", "a": yuan(amount), "n": note.strip()[:150]},
        )
    elif decision == "replace":
        _replace(
            case,
            order,
            actor=agent,
            reason=_("客服 %(no)s 决定补发：%(n)s") % {"no": agent.agent_no or "", "n": note.strip()[:150]},
        )
    elif appealed:
        # The supervisor's answer to an appeal is final: no second appeal window.
        _move(
            case,
            Stage.REJECTED,
            holder=Holder.NOBODY,
            actor=agent,
            clause=c.ref,
            reason=_("客服主管 %(no)s 复核申诉后维持驳回（依据第%(n)d条）：%(t)s")
            % {"no": agent.agent_no or "", "n": c.number, "t": note.strip()[:150]},
        )
        case.decision_clause = c.ref
        _save(case, ["decision_clause"])
        _event(case, "decision", actor=agent, clause=c.ref, decision="rejected", final=True)
        _notify_buyer(_("您的申诉已由客服主管复核，维持驳回。"), case)
    else:
        c10 = policy.clause(10)
        _move(
            case,
            Stage.REJECTED,
            holder=Holder.BUYER,
            actor=agent,
            clause=c.ref,
            due=_deadline_in(days=c10.params.get("days", 7)),
            due_kind="appeal_window",
            reason=_("客服 %(no)s 驳回（依据第%(n)d条）：%(t)s")
            % {"no": agent.agent_no or "", "n": c.number, "t": note.strip()[:150]},
            due_action=_("可在此之前申诉；逾期未申诉，申请结束"),
        )
        case.decision_clause = c.ref
        _save(case, ["decision_clause"])
        _event(case, "decision", actor=agent, clause=c.ref, decision="rejected")
        _notify(
            case.buyer,
            _("您的退款申请被驳回，可在 %(d)d 天内申诉。") % {"d": c10.params.get("days", 7)},
            case,
        )
    return case


@transaction.atomic
def claim(*, case_id: int, agent) -> RefundCase:
    case, _order = _staff_case(case_id, agent, stages={Stage.PLATFORM_REVIEW, Stage.APPEALED})
    if case.stage == Stage.APPEALED and not agent.has_role(Role.SUPERVISOR):
        raise RefundError(_("申诉由客服主管处理。"))
    case.holder_user = agent
    _save(case, ["holder_user"])
    _event(case, "claimed", actor=agent)
    return case


TRANSFER_TARGETS = {Holder.TECH, Holder.FINANCE, Holder.SUPERVISOR, Holder.AGENT}


@transaction.atomic
def transfer(*, case_id: int, agent, to: str, reason: str) -> RefundCase:
    """Hand the case to another department. A transfer is visible with its reason, never silence."""
    case, _order = _staff_case(case_id, agent, stages={Stage.PLATFORM_REVIEW})
    if to not in TRANSFER_TARGETS:
        raise RefundError(_("请选择转交对象。"))
    if not reason.strip():
        raise RefundError(_("转交需要写明原因。"))
    case.holder = to
    case.holder_user = None
    case.stage_reason = _("已转交%(to)s：%(r)s") % {"to": Holder(to).label, "r": reason.strip()[:200]}
    _save(case, ["holder", "holder_user", "stage_reason"])
    _event(case, "transferred", actor=agent, to=to, reason=reason.strip()[:500])
    return case


@transaction.atomic
def finance_decide(*, case_id: int, user, approve: bool, note: str = "") -> RefundCase:
    case, order = _staff_case(case_id, user, stages={Stage.FINANCE_REVIEW}, roles=(Role.FINANCE,))
    if case.approved_by_id == user.pk:
        raise RefundError(_("同一人不能既审批又复核，请由另一位财务人员处理。"))
    case.finance_by = user
    _save(case, ["finance_by"])
    _event(
        case, "finance_decision", actor=user, approve=approve, note=note[:500], clause=policy.clause(8).ref
    )
    if approve:
        _execute(case, order)
    else:
        if not note.strip():
            raise RefundError(_("退回审核需要写明原因。"))
        _to_review(case, actor=user, reason=_("财务退回审核：%(n)s") % {"n": note.strip()[:200]})
    return case


# --- buyer ------------------------------------------------------------------------------------------------


def _buyer_case(case_id: int, buyer):
    case, order = _lock(case_id)
    if case.buyer_id != buyer.pk:
        raise RefundError(_("退款申请不存在。"))
    return case, order


@transaction.atomic
def cancel(*, case_id: int, buyer) -> RefundCase:
    case, _order = _buyer_case(case_id, buyer)
    _move(case, Stage.CANCELLED, holder=Holder.NOBODY, actor=buyer, reason=_("买家撤销了申请"))
    return case


@transaction.atomic
def follow_up(*, case_id: int, buyer) -> RefundCase:
    """催一催: once per 24 h per case; reminds whoever holds it."""
    case, _order = _buyer_case(case_id, buyer)
    if not case.is_open or case.stage in (Stage.REFUNDED,):
        raise RefundError(_("该申请已结束。"))
    now = timezone.now()
    if case.last_followup_at and now - case.last_followup_at < FOLLOW_UP_EVERY:
        nxt = timezone.localtime(case.last_followup_at + FOLLOW_UP_EVERY).strftime("%m-%d %H:%M")
        raise RefundError(_("每个申请 24 小时内只能催一次，下次可催时间：%(t)s。") % {"t": nxt})
    case.last_followup_at = now
    _save(case, ["last_followup_at"])
    reminded = _follow_up_targets(case)
    _event(case, "follow_up", actor=buyer, holder=case.holder, reminded=len(reminded))
    text = _("买家催促处理退款申请 #%(id)d（%(s)s，时限 %(t)s）") % {
        "id": case.pk,
        "s": case.get_stage_display(),
        "t": _fmt(case.deadline_at),
    }
    link = f"/refunds/seller/{case.pk}/" if case.holder == Holder.SELLER else f"/refunds/staff/{case.pk}/"
    Notice.objects.bulk_create([Notice(user=u, text=text[:300], link=link) for u in reminded])
    return case


FOLLOW_UP_QUEUE_CAP = 50  # people reminded at most when a whole queue holds the case

# Who works a case that no one person holds yet: the queue of that role.
_QUEUE_ROLES = {
    Holder.AGENT: (Role.AGENT,),
    Holder.TECH: (Role.AGENT, Role.SUPERVISOR),
    Holder.FINANCE: (Role.FINANCE,),
    Holder.SUPERVISOR: (Role.SUPERVISOR,),
}


def _follow_up_targets(case) -> list:
    """The holder to remind: the named person, the seller, or everyone in the queue that holds it.
    The system (a supplier being asked) and the buyer hold nobody to remind."""
    if case.holder_user is not None:
        return [case.holder_user]
    if case.holder == Holder.SELLER:
        return [case.seller.owner] if case.seller.owner_id else []
    roles = _QUEUE_ROLES.get(case.holder)
    if not roles:
        return []
    return list(
        User.objects.filter(groups__name__in=roles, is_active=True)
        .distinct()
        .order_by("pk")[:FOLLOW_UP_QUEUE_CAP]
    )


@transaction.atomic
def appeal(*, case_id: int, buyer, note: str) -> RefundCase:
    case, _order = _buyer_case(case_id, buyer)
    if case.stage != Stage.REJECTED:
        raise RefundError(_("只有被驳回的申请可以申诉。"))
    if case.facts.get("appealed_at"):
        raise RefundError(_("该申请已申诉过，客服主管的复核结果为最终结果。"))
    if case.deadline_at and timezone.now() > case.deadline_at:
        raise RefundError(_("申诉期已过。"))
    if not note.strip():
        raise RefundError(_("请写明申诉理由。"))
    if RefundCase.objects.filter(order=case.order, is_open=True).exclude(pk=case.pk).exists():
        raise RefundError(_("该订单已有一个进行中的退款申请。"))
    if aftersales.escrow_held(_order) <= 0:
        raise RefundError(_("该订单已无可退款项。"))
    case.facts["appealed_at"] = timezone.now().isoformat()
    _save(case, ["facts"])
    c9 = policy.clause(9)
    _move(
        case,
        Stage.APPEALED,
        holder=Holder.SUPERVISOR,
        actor=buyer,
        clause=c9.ref,
        due=_deadline_in(working_days=c9.params.get("working_days", 2)),
        due_kind="appeal",
        reason=_("买家申诉：%(n)s") % {"n": note.strip()[:200]},
        due_action=_("逾期未处理，将升级提醒"),
    )
    return case


# --- timers ---------------------------------------------------------------------------------------------


@transaction.atomic
def fire_deadline(*, deadline_id: int, now: datetime | None = None) -> str:
    """Do what the clause says when a deadline passes. Idempotent: a fired or stale deadline does nothing."""
    now = now or timezone.now()
    dl = Deadline.objects.filter(pk=deadline_id).values("case_id").first()
    if dl is None:
        return "missing"
    case, order = _lock(dl["case_id"])
    dl = Deadline.objects.select_for_update().get(pk=deadline_id)
    if dl.done_at is not None:
        return "already"
    if dl.due_at > now:
        return "not due"
    if dl.stage != case.stage:
        Deadline.objects.filter(pk=dl.pk).update(done_at=now, outcome="stale")
        return "stale"
    outcome = _fire(case, order, dl, now)
    Deadline.objects.filter(pk=dl.pk).update(done_at=now, outcome=outcome)
    return outcome


def _fire(case, order, dl, now) -> str:
    if dl.kind == "supplier_recheck":  # a poll, not a missed deadline: kept off the timeline unless decided
        return _recheck(case, order, now)
    _event(case, "deadline_passed", deadline_kind=dl.kind, due=dl.due_at.isoformat())
    if dl.kind == "seller_answer":
        _approve(
            case,
            order,
            amount=case.amount_requested,
            actor=None,
            clause=policy.clause(6),
            reason=_("卖家逾期未处理，按第6条自动同意退款"),
            void=case.reason != Reason.DUPLICATE_PAYMENT and case.amount_requested >= order.amount,
            revoke_keys=True,
            partial=case.demand == Demand.PARTIAL_REFUND,
        )
        return "auto-approved"
    if dl.kind == "buyer_offer":
        case.seller_offer = ""
        _save(case, ["seller_offer"])
        _to_review(case, reason=_("买家逾期未回应卖家方案，转平台审核"))
        return "to review"
    if dl.kind == "buyer_info":
        _resume_review(case, now=now, reason=_("买家逾期未补充材料，依第7条按现有材料处理"))
        return "decide on what is there"
    if dl.kind == "supplier_answer":
        _to_review(case, reason=_("供应商逾期未答复充值结果，转技术核验"))
        case.holder = Holder.TECH
        _save(case, ["holder"])
        return "to tech"
    if dl.kind == "appeal_window":
        _event(case, "appeal_window_closed")
        return "closed"
    if dl.kind == "gateway_refund":
        c8 = policy.clause(8)
        case.holder = Holder.FINANCE
        case.holder_user = None
        case.deadline_at = _deadline_in(working_days=c8.params.get("working_days", 1), start=now)
        case.deadline_action = _("财务逾期未核查，将升级至客服主管")
        case.stage_reason = _("支付通道逾期未确认退款，已转财务核查（系统仍在自动重试）")
        _save(case)
        _add_deadline(case=case, kind="escalated", stage=case.stage, due_at=case.deadline_at)
        _event(case, "transferred", to=Holder.FINANCE, reason="gateway refund not confirmed in time")
        return "to finance"
    # review, finance, appeal: escalate to a supervisor with a fresh deadline, said on the timeline
    c9 = policy.clause(9)
    due = _deadline_in(working_days=c9.params.get("working_days", 2), start=now)
    if dl.kind in ("review",):
        case.holder = Holder.SUPERVISOR
        case.holder_user = None
    case.deadline_at = due
    case.deadline_action = _("主管督办中")
    case.stage_reason = _("原处理时限已过，已升级至客服主管督办")
    _save(case)
    _add_deadline(case=case, kind="escalated", stage=case.stage, due_at=due)
    _event(case, "escalated", to="supervisor", clause=c9.ref, deadline=due.isoformat())
    return "escalated"


@transaction.atomic
def recheck_supplier(*, case_id: int) -> str:
    """A case waiting on the supplier: ask again and decide as soon as there is an answer."""
    case, order = _lock(case_id)
    if case.stage != Stage.VERIFYING:
        return "not waiting"
    return _recheck(case, order, timezone.now(), reschedule=False)


def _recheck(case, order, now: datetime, *, reschedule: bool = True) -> str:
    verdict = verify(order, reason=case.reason, demand=case.demand, amount=case.amount_requested)
    if verdict.action == "wait_supplier":
        if reschedule:
            _schedule_recheck(case, now)
        return "still unknown"
    _event(case, "verified", fact=verdict.fact, action=verdict.action)
    _apply_verdict(case, order, verdict)
    return verdict.action
