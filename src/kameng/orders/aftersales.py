"""Order-side services the refund engine calls. The caller holds the order lock (`lock_order`)."""

from dataclasses import dataclass

from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from kameng.catalog.models import GoodsKind
from kameng.db import prepared
from kameng.db.prepared import PreparedQuery
from kameng.evidence.services import HEAD, append_event, head_from, new_event
from kameng.wallet import services as wallet
from kameng.wallet.models import Posting

from . import secrets as keyvault
from .models import (
    DELIVERABLE,
    CardKey,
    CardKeyStatus,
    Delivery,
    DeliveryStatus,
    Order,
    OrderStatus,
    Payment,
    PaymentStatus,
)
from .services import OrderError, _deliver_locked, _event, _finish_delivery, _lock_order, _take_keys
from .supplier import card_key_redemption

# The refund path's reads, compiled once per process (see kameng.db.prepared).
_PAYMENTS = PreparedQuery(
    lambda order_id: Payment.objects.filter(order_id=order_id).order_by("pk"), order_id=int
)
_KEYS = PreparedQuery(lambda order_id: CardKey.objects.filter(order_id=order_id).order_by("pk"), order_id=int)
_DELIVERY = PreparedQuery(lambda order_id: Delivery.objects.filter(order_id=order_id), order_id=int)
_HOLDINGS = PreparedQuery(
    lambda no, escrow, payee: (
        Posting.objects.filter(transaction__reference=no, account__code__in=[escrow, payee])
        .values("account__code")
        .annotate(s=Sum("amount"))
        .values_list("account__code", "s")
    ),
    no=str,
    escrow=str,
    payee=str,
)


def lock_order(order_id: int) -> Order:
    """Lock the order row (with its product and seller)."""
    return _lock_order(order_id)


def load_facts(order: Order, *also: tuple) -> tuple["Holdings", list[list]]:
    """Read the order's delivery, payments, card keys, what it holds, the ledger accounts a refund
    of it moves money between and its event chain's head once, after its lock was granted (so as
    the last holder of the lock left them), for everything verification and a refund ask of them.
    Returns its holdings, and the answers to the caller's own reads `also` (prepared reads, sent
    along). Plain reads (the prefetch machinery costs more), sent together; only card-key orders
    ever hold keys."""
    held = _holdings_read(order)
    codes = [held["escrow"], held["payee"], wallet.buyer_code(order.buyer_id)]
    reads = [
        (_DELIVERY, {"order_id": order.pk}),
        (_PAYMENTS, {"order_id": order.pk}),
        (_HOLDINGS, held),
        (HEAD, {"stream": order.stream}),
        wallet.accounts_read(codes),
    ]
    keyed = order.kind == GoodsKind.CARD_KEY
    if keyed:
        reads.append((_KEYS, {"order_id": order.pk}))
    delivery, payments, sums, head, accounts, *answers = prepared.fetch_together(*reads, *also)
    keys = answers.pop(0) if keyed else []
    # None: looked up and not there yet (a buyer's first refund creates their account).
    order._facts_accounts = {**dict.fromkeys(codes), **{a.code: a for a in accounts}}
    _cache_delivery(order, delivery[0] if delivery else None)
    order._facts_payments = payments
    order._facts_keys = keys
    # Valid while the lock is held and until this transaction appends to the order's chain.
    order._facts_event_head = head_from(head)
    return _holdings_from(sums, held), answers


def _cache_delivery(order: Order, delivery: Delivery | None) -> None:
    Order.delivery.related.set_cached_value(order, delivery)


def payments_of(order: Order) -> list[Payment]:
    """The order's payments: as loaded with its lock, or read now."""
    loaded = order.__dict__.get("_facts_payments")
    return loaded if loaded is not None else list(order.payments.all())


def keys_of(order: Order) -> list[CardKey]:
    """The order's card keys: as loaded with its lock, or read now."""
    loaded = order.__dict__.get("_facts_keys")
    return loaded if loaded is not None else list(order.card_keys.all())


def order_facts(order: Order, *, escrow: int | None = None) -> dict:
    """The verified facts of one order, as plain data (stored on the case, shown to everyone)."""
    payments = [
        p for p in payments_of(order) if p.status == PaymentStatus.SUCCEEDED and not p.credited_to_balance
    ]
    keys = keys_of(order)
    try:
        delivery = order.delivery  # read once by load_facts() when the caller asked for the facts
    except Delivery.DoesNotExist:
        delivery = None
    assigned = [k for k in keys if k.status == CardKeyStatus.ASSIGNED]
    viewed = [k.viewed_at for k in assigned if k.viewed_at]
    return {
        "order_no": order.no,
        "product": order.product.name,
        "kind": order.kind,
        "quantity": order.quantity,
        "amount": order.amount,
        "pay_method": order.pay_method,
        "status": order.status,
        "paid_at": order.paid_at.isoformat() if order.paid_at else None,
        "payments": [
            {
                "out_trade_no": p.out_trade_no,
                "amount": p.amount,
                "method": p.method,
                "paid_at": p.paid_at.isoformat() if p.paid_at else None,
            }
            for p in payments
        ],
        "successful_payments": len(payments),
        "delivery_status": delivery.status if delivery else None,
        "delivered_at": order.delivered_at.isoformat() if order.delivered_at else None,
        "keys_assigned": len(assigned),
        "keys_viewed_at": min(viewed).isoformat() if viewed else None,
        "supplier_result": delivery.supplier_result if delivery else "",
        "activated_at": delivery.activated_at.isoformat() if delivery and delivery.activated_at else None,
        "escrow": escrow_held(order) if escrow is None else escrow,
    }


def successful_payments(order: Order) -> list[Payment]:
    found = [
        p for p in payments_of(order) if p.status == PaymentStatus.SUCCEEDED and not p.credited_to_balance
    ]
    return sorted(found, key=lambda p: (p.paid_at or p.created_at, p.pk))


@dataclass(frozen=True)
class Holdings:
    """An order's money still on the platform: in its escrow, and passed on to its payee."""

    escrow: int
    passed_on: int

    @property
    def total(self) -> int:
        return self.escrow + self.passed_on


def holdings(order: Order) -> Holdings:
    """One query: every posting to the escrow references the order number, and so do the
    settlement and clawback postings of its payee."""
    held = _holdings_read(order)
    return _holdings_from(_HOLDINGS.fetch(**held), held)


def _holdings_read(order: Order) -> dict:
    return {"no": order.no, "escrow": wallet.escrow_code(order.pk), "payee": payee(order)}


def _holdings_from(sums, held: dict) -> Holdings:
    sums = dict(sums)
    return Holdings(escrow=sums.get(held["escrow"]) or 0, passed_on=sums.get(held["payee"]) or 0)


def escrow_held(order: Order) -> int:
    """What can still be refunded: the order's escrow plus what was passed on to its seller (or
    platform revenue) at settlement and not yet clawed back."""
    return holdings(order).total


def payee(order: Order) -> str:
    return wallet.payee_code(seller_id=order.seller_id, is_platform=order.seller.is_platform)


def settle(order: Order) -> int:
    """Pass what the order's escrow holds to its seller (or platform revenue). The caller holds the
    order lock and has checked that no refund case is open. Returns the amount settled."""
    held = wallet.balance_of(wallet.escrow_code(order.pk))
    if held <= 0:
        return 0
    _txn, created = wallet.post(
        key=f"settle:{order.pk}",
        kind="settlement",
        reference=order.no,
        lines=[wallet.Line(wallet.escrow_code(order.pk), -held), wallet.Line(payee(order), held)],
    )
    if created:
        _event(order, "settled", amount=held, payee=payee(order))
    return held if created else 0


def recheck_topup(order: Order) -> str:
    """Ask the supplier again about an unknown top-up; returns the delivery status after (and
    keeps the order's loaded delivery in step with it, for the facts read afterwards)."""
    _deliver_locked(order)
    delivery = Delivery.objects.get(order=order)
    _cache_delivery(order, delivery)
    return delivery.status


def key_redemption(order: Order) -> str:
    """What the supplier says about the order's revealed keys: the worst answer wins."""
    answers = {
        card_key_redemption(keyvault.decrypt(k.secret_enc))
        for k in CardKey.objects.filter(order=order, status=CardKeyStatus.ASSIGNED)
    }
    for answer in ("redeemed", "unknown", "bad_batch", "not_redeemed"):
        if answer in answers:
            return answer
    return "unknown"


def void_for_refund(
    order: Order, *, revoke_keys: bool, collect: list | None = None, later: prepared.Later | None = None
) -> None:
    """A full refund: the order can never be delivered again (its keys go back to no one).
    With `collect`, the order's event is built (chained) and added to it for the caller to save
    in one batch with its own events; with `later`, the order and delivery rows are written when
    the caller flushes it (before its commit) instead of here."""
    write = later.update if later is not None else prepared.update
    now = timezone.now()
    if revoke_keys:
        # Revoked keys are not resold until someone verifies them (REVOKED is not AVAILABLE).
        CardKey.objects.filter(order=order, status=CardKeyStatus.ASSIGNED).update(
            status=CardKeyStatus.REVOKED
        )
    delivery = order._state.fields_cache.get("delivery")  # read after the lock by load_facts()
    if delivery is not None:
        if delivery.status != DeliveryStatus.DELIVERED:
            delivery.status = DeliveryStatus.VOIDED
            write(delivery, ["status", "updated_at"])
    else:
        Delivery.objects.filter(order=order).exclude(status=DeliveryStatus.DELIVERED).update(
            status=DeliveryStatus.VOIDED
        )
    order.status = OrderStatus.REFUNDED
    order.refunded_at = now
    write(order, ["status", "refunded_at"])
    if collect is None:
        _event(order, "refunded_void", revoked_keys=revoke_keys)
    else:
        collect.append(
            new_event(
                stream=order.stream,
                kind="refunded_void",
                actor_label="系统",
                data={"revoked_keys": revoke_keys},
                head=order.__dict__.pop("_facts_event_head", None),
            )
        )


def replace_goods(order: Order) -> None:
    """补发: card keys are swapped for fresh ones from stock; other kinds are delivered again."""
    if order.kind == GoodsKind.CARD_KEY:
        old = list(
            CardKey.objects.filter(order=order, status=CardKeyStatus.ASSIGNED).values_list("pk", flat=True)
        )
        fresh = _take_keys(order)
        if not fresh:
            raise OrderError(_("库存不足，无法补发。"))
        CardKey.objects.filter(pk__in=old).update(status=CardKeyStatus.REVOKED)
        _event(order, "replaced", keys=len(fresh))
        if order.status in DELIVERABLE:
            # Replacing for an order still waiting for stock is its delivery: mark it delivered, or a
            # later restock retry would hand the buyer a second set of keys.
            _finish_delivery(
                order,
                Delivery.objects.select_for_update().get(order=order),
                timezone.now(),
                keys=len(fresh),
                replacement=True,
            )
        return
    delivery = Delivery.objects.select_for_update().get(order=order)
    delivery.status = DeliveryStatus.PENDING
    delivery.supplier_ref = ""
    delivery.supplier_result = ""
    delivery.activated_at = None
    delivery.save()
    order.status = OrderStatus.PAID
    order.delivered_at = None
    order.save(update_fields=["status", "delivered_at"])
    _event(order, "redelivery_started")
    _deliver_locked(order)


def stock_left(order: Order) -> int:
    if order.kind == GoodsKind.CARD_KEY:
        return CardKey.objects.filter(product_id=order.product_id, status=CardKeyStatus.AVAILABLE).count()
    return order.product.stock if order.product.stock is not None else 10**6


def reverify_revoked_keys(*, key_ids, actor) -> tuple[int, int]:
    """Put revoked keys back on sale only if the supplier confirms they were never redeemed.
    Returns (back on sale, kept revoked). Each key is decided under its own row lock."""
    from django.db import transaction

    restocked = kept = 0
    for key_id in key_ids:
        with transaction.atomic():
            key = CardKey.objects.select_for_update().filter(pk=key_id, status=CardKeyStatus.REVOKED).first()
            if key is None:
                continue
            if card_key_redemption(keyvault.decrypt(key.secret_enc)) != "not_redeemed":
                kept += 1
                continue
            previous_order = key.order_id
            CardKey.objects.filter(pk=key.pk).update(
                status=CardKeyStatus.AVAILABLE, order=None, assigned_at=None, viewed_at=None, redeemed=False
            )
            append_event(
                stream=f"product:{key.product_id}",
                kind="card_key_reverified",
                actor=actor,
                data={"key": key.pk, "previous_order": previous_order},
            )
            restocked += 1
    return restocked, kept
