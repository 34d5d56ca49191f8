"""Order-side services the refund engine calls. The caller holds the order lock (`lock_order`)."""

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kameng.catalog.models import GoodsKind
from kameng.evidence.services import append_event
from kameng.inventory import secrets as keyvault
from kameng.inventory.models import CardKey, CardKeyStatus
from kameng.payments.models import Payment, PaymentStatus
from kameng.wallet import selectors as ledger
from kameng.wallet import services as wallet

from .models import DELIVERABLE, Delivery, DeliveryStatus, Order, OrderStatus
from .services import OrderError, append_order_event, deliver_locked, finish_delivery, take_keys
from .supplier import card_key_redemption


@dataclass(frozen=True)
class Refundable:
    """An order's money a refund can still reach: what its escrow holds, and what was passed on
    to its payee (the seller, or platform revenue) at settlement and not yet clawed back."""

    in_escrow: int
    passed_on: int

    @property
    def total(self) -> int:
        return self.in_escrow + self.passed_on


def payee(order: Order) -> str:
    return wallet.payee_code(seller_id=order.seller_id, is_platform=order.seller.is_platform)


def refundable(order: Order) -> Refundable:
    """One query: every posting to the escrow references the order number, and so do the
    settlement and clawback postings of its payee."""
    escrow = wallet.escrow_code(order.pk)
    sums = ledger.sums_by_account(reference=order.no, codes=[escrow, payee(order)])
    return Refundable(in_escrow=sums.get(escrow, 0), passed_on=sums.get(payee(order), 0))


@dataclass
class OrderFacts:
    """What the system's own records say about one order, read together (after its lock, for a
    decision; without it, for a page). `delivery` is None for an order that never had one."""

    order: Order
    payments: list[Payment]
    keys: list[CardKey]
    delivery: Delivery | None
    refundable: Refundable

    @property
    def successful_payments(self) -> list[Payment]:
        """Payments that brought money to the order (a late one credited to the balance did not),
        first paid first."""
        found = [
            p for p in self.payments if p.status == PaymentStatus.SUCCEEDED and not p.credited_to_balance
        ]
        return sorted(found, key=lambda p: (p.paid_at or p.created_at, p.pk))

    @property
    def assigned_keys(self) -> list[CardKey]:
        return [k for k in self.keys if k.status == CardKeyStatus.ASSIGNED]


def read_facts(order: Order) -> OrderFacts:
    """The order's payments, card keys (card-key orders only), delivery and refundable money."""
    keys = list(order.card_keys.order_by("pk")) if order.kind == GoodsKind.CARD_KEY else []
    return OrderFacts(
        order=order,
        payments=list(order.payments.order_by("pk")),
        keys=keys,
        delivery=Delivery.objects.filter(order=order).first(),
        refundable=refundable(order),
    )


def shown_facts(facts: OrderFacts) -> dict:
    """The verified facts of one order as plain data: stored on the case and shown to the buyer,
    the seller and staff alike, so nothing internal goes in here."""
    order, delivery = facts.order, facts.delivery
    payments = facts.successful_payments
    viewed = [k.viewed_at for k in facts.assigned_keys if k.viewed_at]
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
        "keys_assigned": len(facts.assigned_keys),
        "keys_viewed_at": min(viewed).isoformat() if viewed else None,
        "supplier_result": delivery.supplier_result if delivery else "",
        "activated_at": delivery.activated_at.isoformat() if delivery and delivery.activated_at else None,
        "escrow": facts.refundable.total,
    }


def settle(order: Order) -> int:
    """Pass what the order's escrow holds to its seller (or platform revenue), and take the order
    off the settlement index. The caller holds the order lock and has checked that no refund case
    is open. Returns the amount settled."""
    order.settlement_window_from = None
    order.save(update_fields=["settlement_window_from"])
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
        append_order_event(order, "settled", amount=held, payee=payee(order))
    return held if created else 0


def hold_settlement(order_ids, *, window_from) -> None:
    """Orders an open case holds back: their refund window is counted again from `window_from`."""
    Order.objects.filter(pk__in=order_ids).update(settlement_window_from=window_from)


def drop_from_settlement(order_ids) -> None:
    """Orders with nothing to settle (refunded, or no longer delivered): off the settlement index."""
    Order.objects.filter(pk__in=order_ids).update(settlement_window_from=None)


def recheck_topup(facts: OrderFacts) -> str:
    """Ask the supplier again about an unknown top-up; returns the delivery status after, and
    keeps `facts` in step with it. The refund engine asks, and acts on a failure itself."""
    deliver_locked(facts.order, refund_if_failed=False)
    facts.delivery = Delivery.objects.get(order=facts.order)
    return facts.delivery.status


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


def void_for_refund(order: Order, *, revoke_keys: bool) -> None:
    """A full refund: the order can never be delivered again (its keys go back to no one, and are
    not resold until someone verifies them: REVOKED is not AVAILABLE)."""
    if revoke_keys:
        CardKey.objects.filter(order=order, status=CardKeyStatus.ASSIGNED).update(
            status=CardKeyStatus.REVOKED
        )
    Delivery.objects.filter(order=order).exclude(status=DeliveryStatus.DELIVERED).update(
        status=DeliveryStatus.VOIDED, updated_at=timezone.now()
    )
    order.status = OrderStatus.REFUNDED
    order.refunded_at = timezone.now()
    order.settlement_window_from = None  # nothing is left to pass on
    order.save(update_fields=["status", "refunded_at", "settlement_window_from"])
    append_order_event(order, "refunded_void", revoked_keys=revoke_keys)


def replace_goods(order: Order) -> None:
    """补发: card keys are swapped for fresh ones from stock; other kinds are delivered again."""
    if order.kind == GoodsKind.CARD_KEY:
        old = list(
            CardKey.objects.filter(order=order, status=CardKeyStatus.ASSIGNED).values_list("pk", flat=True)
        )
        fresh = take_keys(order)
        if not fresh:
            raise OrderError(_("库存不足，无法补发。"))
        CardKey.objects.filter(pk__in=old).update(status=CardKeyStatus.REVOKED)
        append_order_event(order, "replaced", keys=len(fresh))
        if order.status in DELIVERABLE:
            # Replacing for an order still waiting for stock is its delivery: mark it delivered, or a
            # later restock retry would hand the buyer a second set of keys.
            finish_delivery(
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
    order.delivered_at = order.settlement_window_from = None
    order.save(update_fields=["status", "delivered_at", "settlement_window_from"])
    append_order_event(order, "redelivery_started")
    deliver_locked(order)


def stock_left(order: Order) -> int:
    if order.kind == GoodsKind.CARD_KEY:
        return CardKey.objects.filter(product_id=order.product_id, status=CardKeyStatus.AVAILABLE).count()
    return order.product.stock if order.product.stock is not None else 10**6


def reverify_revoked_keys(*, key_ids, actor) -> tuple[int, int]:
    """Put revoked keys back on sale only if the supplier confirms they were never redeemed.
    Returns (back on sale, kept revoked). Each key is decided under its own row lock."""

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
