"""Orders and their delivery. Each public function is one transaction (or part of the caller's).

Locking rule: anything that changes an order's payment or delivery facts first locks the order row
(`lock_order`). Refund (in refunds.services) takes the same lock, so refund and delivery of one
order are decided one after the other, never both.

Money for an order arrives two ways: from the buyer's balance (`place_order`), or through the
gateway, when payments hands a succeeded payment to `apply_order_payment` (registered as the
payments.hooks handler in OrdersConfig.ready()).
"""

import logging
from datetime import timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from kameng.accounts.services import notify
from kameng.catalog.hooks import refund_terms
from kameng.catalog.models import GoodsKind, Product
from kameng.evidence.services import append_event
from kameng.evidence.uploads import UploadError
from kameng.evidence.uploads import inspect as inspect_upload
from kameng.inventory import services as inventory
from kameng.inventory.selectors import available_keys, has_available_keys
from kameng.money import yuan
from kameng.numbering import new_no
from kameng.payments import services as payments
from kameng.payments.models import Payment, PayMethod
from kameng.safety import scam
from kameng.sentences import Sentence
from kameng.wallet import services as wallet
from kameng.wallet.services import Line

from . import hooks
from .errors import OrderError, QuantityError, TermsError
from .models import DELIVERABLE, Delivery, DeliveryStatus, Order, OrderStatus, RefundState
from .rechecks import recheck_delay
from .supplier import get_supplier

log = logging.getLogger(__name__)

PAY_WINDOW = timedelta(minutes=15)
DELIVERY_ARCHIVES = frozenset(
    {"application/zip", "application/x-7z-compressed", "application/x-rar-compressed"}
)


def new_order_no() -> str:
    return new_no("KM")


def locking(**lookup):
    """The order's lock query, with its product and seller. of=("self",): the order row only; the
    product and seller rows are read, not held, so orders of one product or seller never wait for
    each other. Nothing that changes under the order lock is joined here: PostgreSQL returns
    joined rows as they were before the lock was granted."""
    return Order.objects.select_for_update(of=("self",)).select_related("product", "seller").filter(**lookup)


def lock_order(order_id: int) -> Order:
    """Lock the order row (with its product and seller, read): call it first, inside a transaction."""
    return locking(pk=order_id).get()


def append_order_event(order: Order, kind: str, *, actor=None, actor_label: str = "", **data) -> None:
    """Append one event to the order's chain. The caller holds the order lock."""
    append_event(
        stream=order.stream,
        kind=kind,
        actor=actor,
        actor_label=actor_label or ("" if actor else "系统"),
        data=data,
    )


# --- placing and paying orders -------------------------------------------------------------------


def _check_purchase(product: Product, quantity: int, target_account: str) -> None:
    if not product.is_active or not product.seller.is_active:
        raise OrderError(_("该商品已下架。"))
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
        raise QuantityError(_("购买数量至少为 1。"))
    if quantity > product.max_per_order:
        raise QuantityError(_("该商品每单最多购买 %(n)d 件。") % {"n": product.max_per_order})
    if product.kind in (GoodsKind.DIRECT_TOPUP, GoodsKind.ACTIVATION) and not target_account.strip():
        raise OrderError(_("请填写充值账号。"), field="target_account")
    left = available_keys(product.pk) if product.kind == GoodsKind.CARD_KEY else product.stock
    if left == 0:
        raise OrderError(_("该商品已售罄（库存不足），暂时无法购买。"))
    if left is not None and left < quantity:
        raise OrderError(_("库存不足，请减少数量或稍后再试。"), field="quantity")


def check_terms(product: Product, *, accept_terms: bool, terms_shown: str | None = None) -> list[dict]:
    """The refund terms of the product's kind the buyer confirms by buying, as the order records
    them. Refused unless `accept_terms` is True; `terms_shown` (the refs the page showed, joined by
    commas) must still be the current ones, or the buyer confirmed something else."""
    terms = refund_terms(product.kind)
    if not terms:
        return []
    if accept_terms is not True:
        raise TermsError(
            _("请先阅读并勾选同意该商品的退款条款（%(refs)s）后再下单。")
            % {"refs": _("、").join(_("第%(n)d条") % {"n": t.number} for t in terms)}
        )
    if terms_shown is not None and terms_shown != ",".join(t.ref for t in terms):
        raise TermsError(_("退款条款刚刚更新，请重新阅读并确认后再下单。"))
    return [{"number": t.number, "version": t.version, "title": t.title} for t in terms]


@transaction.atomic
def place_order(
    *,
    buyer,
    product: Product,
    quantity: int = 1,
    pay_method: str = PayMethod.BALANCE,
    target_account: str = "",
    accept_terms: bool | None = None,
    terms_shown: str | None = None,
) -> Order:
    """Create an order. Paid by balance: paid and delivered in this transaction, or refused whole
    (no money taken) when stock or balance is short. Paid by gateway: waits for the callback.

    The buyer's doors (checkout page, API) pass `accept_terms`: the order is refused unless the
    buyer confirmed the refund terms of the product's kind, and records their versions. None is
    for callers that are not a buyer buying (scripts, the demo): no terms are recorded then."""
    _check_purchase(product, quantity, target_account)
    if pay_method not in PayMethod.values:
        raise OrderError(_("不支持的支付方式。"), field="pay_method")
    accepted = (
        []
        if accept_terms is None
        else check_terms(product, accept_terms=accept_terms, terms_shown=terms_shown)
    )
    amount = product.price * quantity
    order = Order.objects.create(
        no=new_order_no(),
        buyer=buyer,
        product=product,
        seller=product.seller,
        kind=product.kind,
        quantity=quantity,
        unit_price=product.price,
        amount=amount,
        pay_method=pay_method,
        target_account=target_account.strip()[:80],
        expires_at=timezone.now() + PAY_WINDOW,
        accepted_terms=accepted,
    )
    Delivery.objects.create(order=order)
    append_order_event(
        order, "order_placed", actor=buyer, amount=amount, quantity=quantity, pay_method=pay_method
    )
    if pay_method == PayMethod.BALANCE:
        payment = payments.record_balance_payment(user=buyer, order=order, amount=amount)
        try:
            wallet.post(
                key=f"order:{order.pk}:balance",
                kind="order_payment",
                reference=order.no,
                lines=[
                    Line(wallet.buyer_code(buyer.pk), -amount),
                    Line(wallet.escrow_code(order.pk), amount),
                ],
            )
        except wallet.InsufficientBalance as e:
            raise OrderError(_("余额不足，请先充值。")) from e
        _mark_paid(order, payment)
        if product.kind == GoodsKind.CARD_KEY and order.status != OrderStatus.DELIVERED:
            # The stock check passed but another buyer took the last keys meanwhile: refuse cleanly.
            raise OrderError(_("库存不足，请减少数量或稍后再试。"))
    return order


def start_order_gateway_payment(*, order: Order, user) -> tuple[Payment, str]:
    """A new gateway payment attempt for a pending order (buyers do pay twice: that is duplicate payment)."""
    if order.buyer_id != user.pk:
        raise OrderError(_("订单不存在。"))
    with transaction.atomic():
        # Checked under the order lock: the caller's copy may predate a cancel or expiry in another tab.
        order = lock_order(order.pk)
        if order.status != OrderStatus.PENDING:
            raise OrderError(_("该订单当前无需支付。"))
        try:
            return payments.start_gateway_payment(
                user=user, order=order, amount=order.amount, subject=order.product.name
            )
        except payments.PaymentError as e:
            raise OrderError(str(e)) from e


def apply_order_payment(payment: Payment, *, ledger_key: str) -> str:
    """The payments.hooks handler: the gateway confirmed `payment` for its order. payments has
    deduplicated the callback under the payment's row lock and marked the payment succeeded, in the
    transaction this runs in; here the order's lock decides what the money is for:
    a pending order is paid and delivered; an order that can no longer take it (expired, cancelled,
    refunded) has it credited to the buyer's balance, and the buyer is told; an order already paid
    keeps it as a duplicate payment for the refund engine (clause 2). Returns the callback's result."""
    order = lock_order(payment.order_id)
    if order.status == OrderStatus.PENDING:
        wallet.post(
            key=ledger_key,
            kind="order_payment",
            reference=order.no,
            lines=[Line(wallet.GATEWAY, -payment.amount), Line(wallet.escrow_code(order.pk), payment.amount)],
        )
        _mark_paid(order, payment)
        return "order paid"
    if order.status in (OrderStatus.CANCELLED, OrderStatus.EXPIRED, OrderStatus.REFUNDED):
        # Never lose late money: it becomes balance, and the buyer is told.
        payments.mark_credited_to_balance(payment)
        wallet.post(
            key=ledger_key,
            kind="late_payment",
            reference=order.no,
            lines=[
                Line(wallet.GATEWAY, -payment.amount),
                Line(wallet.buyer_code(order.buyer_id), payment.amount),
            ],
        )
        append_order_event(
            order, "late_payment_credited", amount=payment.amount, out_trade_no=payment.out_trade_no
        )
        notify(
            order.buyer,
            Sentence(
                gettext_noop("订单 %(no)s 已关闭后收到您的付款 ¥%(amt)s，已存入您的余额。"),
                no=order.no,
                amt=yuan(payment.amount),
            ),
            f"/orders/{order.no}/",
        )
        return "late payment credited to balance"
    # The order was already paid: this is a duplicate payment. Keep it in the order's escrow so the
    # refund engine finds "more than one successful payment" and returns it (clause 2).
    wallet.post(
        key=ledger_key,
        kind="duplicate_payment",
        reference=order.no,
        lines=[Line(wallet.GATEWAY, -payment.amount), Line(wallet.escrow_code(order.pk), payment.amount)],
    )
    append_order_event(order, "duplicate_payment", amount=payment.amount, out_trade_no=payment.out_trade_no)
    notify(
        order.buyer,
        Sentence(
            gettext_noop("订单 %(no)s 收到重复付款 ¥%(amt)s，可在订单页申请退回。"),
            no=order.no,
            amt=yuan(payment.amount),
        ),
        f"/orders/{order.no}/",
    )
    return "duplicate payment recorded"


def _mark_paid(order: Order, payment: Payment) -> None:
    order.status = OrderStatus.PAID
    order.paid_at = payment.paid_at or timezone.now()
    order.save(update_fields=["status", "paid_at"])
    append_order_event(
        order, "order_paid", amount=payment.amount, out_trade_no=payment.out_trade_no, method=payment.method
    )
    if not _take_stock(order):
        if payment.method == PayMethod.BALANCE:
            raise OrderError(_("库存不足，请减少数量或稍后再试。"))  # rolls the whole purchase back
        append_order_event(
            order, "stock_short", quantity=order.quantity
        )  # the money already came: still deliver
    deliver_locked(order)


# --- delivery ------------------------------------------------------------------------------------


def take_keys(order: Order) -> list:
    """Assign card keys from stock to the order (inventory.services.take_keys), with the shop's
    error: [] when there are not enough. The caller holds the order lock."""
    try:
        return inventory.take_keys(order)
    except inventory.InventoryError as e:
        raise OrderError(str(e)) from e


def deliver_locked(order: Order, *, refund_if_failed: bool = True) -> None:
    """Deliver what the system can deliver by itself. The caller holds the order lock. A top-up the
    supplier reports failed is handed to the refund engine (orders.hooks.topup_failed), unless the
    refund engine is the one asking (`refund_if_failed=False`): it acts on the answer itself."""
    if order.status not in DELIVERABLE:
        return
    delivery = Delivery.objects.select_for_update().get(order=order)
    now = timezone.now()
    if order.kind == GoodsKind.CARD_KEY:
        if not take_keys(order):
            append_order_event(order, "delivery_waiting_stock", quantity=order.quantity)
            return
        finish_delivery(order, delivery, now, keys=order.quantity)
    elif order.kind == GoodsKind.DIRECT_TOPUP:
        supplier = get_supplier()
        if delivery.supplier_ref:
            result = supplier.query(delivery.supplier_ref)
        else:
            ref, result = supplier.topup(
                account=order.target_account, amount=order.product.face_value or order.amount
            )
            delivery.supplier_ref = ref
        delivery.attempts += 1
        delivery.supplier_result = result
        if result == "success":
            finish_delivery(order, delivery, now, supplier_ref=delivery.supplier_ref)
        elif result == "failed":
            delivery.status = DeliveryStatus.FAILED
            delivery.save()
            order.status = OrderStatus.DELIVERY_FAILED
            order.save(update_fields=["status"])
            append_order_event(order, "topup_failed", supplier_ref=delivery.supplier_ref)
            if refund_if_failed:
                hooks.topup_failed(order)
        else:
            delivery.status = DeliveryStatus.UNKNOWN
            delivery.next_check_at = now + recheck_delay(delivery.attempts)
            delivery.save()
            if order.status != OrderStatus.DELIVERING:
                order.status = OrderStatus.DELIVERING
                order.save(update_fields=["status"])
                append_order_event(order, "topup_unknown", supplier_ref=delivery.supplier_ref)
    elif order.kind == GoodsKind.ACTIVATION:
        # Activation is done by the seller's licence system; "activate" is an explicit step (seller or API).
        append_order_event(order, "awaiting_activation")
    # custom_service: the seller delivers by hand.


def _take_stock(order: Order) -> bool:
    """Count limited goods (other than card keys) out once, when the order is paid, never on a
    delivery retry. False when the stock was short (then it is left at zero)."""
    if order.kind == GoodsKind.CARD_KEY:
        return True  # card-key stock is the free keys themselves
    limited = Product.objects.filter(pk=order.product_id, stock__isnull=False)
    if limited.filter(stock__gte=order.quantity).update(stock=F("stock") - order.quantity):
        return True
    return not limited.update(stock=0)


def finish_delivery(order: Order, delivery: Delivery, now, **facts) -> None:
    """Mark the order and its delivery delivered at `now`, and log `facts`. The caller holds the order
    lock and the delivery row."""
    delivery.status = DeliveryStatus.DELIVERED
    delivery.delivered_at = now
    delivery.save()
    order.status = OrderStatus.DELIVERED
    order.delivered_at = order.settlement_window_from = now
    order.save(update_fields=["status", "delivered_at", "settlement_window_from"])
    append_order_event(order, "delivered", **facts)


def deliver_waiting_orders(*, product_id: int) -> int:
    """After a restock: deliver the paid orders that were waiting for keys, oldest first. Each order
    is decided under its own lock, so one refunded meanwhile is skipped, never delivered."""
    waiting = Order.objects.filter(product_id=product_id, kind=GoodsKind.CARD_KEY, status=OrderStatus.PAID)
    delivered = 0
    for order_id in waiting.order_by("paid_at", "id").values_list("pk", flat=True)[:500]:
        if retry_delivery(order_id=order_id).status == OrderStatus.DELIVERED:
            delivered += 1
        elif not has_available_keys(product_id):
            break
    return delivered


@transaction.atomic
def retry_delivery(*, order_id: int) -> Order:
    """Try again to deliver a paid order (restock, supplier answered). Never after a refund."""
    order = lock_order(order_id)
    deliver_locked(order)
    return order


@transaction.atomic
def record_activation(*, order_id: int, account: str, actor) -> Order:
    order = lock_order(order_id)
    if order.kind != GoodsKind.ACTIVATION or order.status not in DELIVERABLE:
        raise OrderError(_("该订单当前不能激活。"))
    delivery = Delivery.objects.select_for_update().get(order=order)
    now = timezone.now()
    delivery.activation_account = account or order.target_account
    delivery.activated_at = now
    finish_delivery(order, delivery, now, activation_account=delivery.activation_account)
    return order


@transaction.atomic
def deliver_custom_service(*, order_id: int, seller_user, note: str, file=None) -> Order:
    order = lock_order(order_id)
    if order.seller.owner_id != seller_user.pk:
        raise OrderError(_("订单不存在。"))
    if order.kind != GoodsKind.CUSTOM_SERVICE or order.status not in DELIVERABLE:
        raise OrderError(_("该订单当前不能交付。"))
    if not note.strip():
        raise OrderError(_("请填写交付说明。"))
    facts = {"note": note.strip()[:200]}
    if file:
        try:  # checked by content, like evidence; deliverables may also be archives
            mime, digest, size = inspect_upload(file, also_allowed=DELIVERY_ARCHIVES)
        except UploadError as e:
            raise OrderError(str(e)) from e
        facts.update(file=getattr(file, "name", "file")[-120:], sha256=digest, size=size, content_type=mime)
    delivery = Delivery.objects.select_for_update().get(order=order)
    delivery.note = note.strip()[:5000]
    if file:
        delivery.file.save(f"{order.no}-{facts['sha256'][:12]}", file, save=False)
    finish_delivery(order, delivery, timezone.now(), **facts)
    # A note that reads like a scam is kept (it is the seller's delivery) but the buyer's page holds it.
    scam.log_hit(scam.check(delivery.note, sender="seller"), source="orders.delivery", source_id=order.pk)
    return order


def check_may_confirm(order: Order) -> None:
    """Whether the buyer can confirm receipt now (the page shows 确认收货 only then). A refunded
    order stays "delivered" when the goods were not taken back, but there is nothing to confirm."""
    if order.refund_state == RefundState.FULLY:
        raise OrderError(_("该订单已全额退款，不能再确认收货。"))
    if order.status != OrderStatus.DELIVERED:
        raise OrderError(_("订单尚未交付，不能确认收货。"))


def may_confirm(order: Order) -> bool:
    try:
        check_may_confirm(order)
    except OrderError:
        return False
    return True


@transaction.atomic
def confirm_received(*, order_id: int, buyer) -> Order:
    order = lock_order(order_id)
    if order.buyer_id != buyer.pk:
        raise OrderError(_("订单不存在。"))
    check_may_confirm(order)
    now = timezone.now()
    Delivery.objects.filter(order=order).update(buyer_confirmed_at=now)
    order.status = OrderStatus.COMPLETED
    order.completed_at = now
    order.save(update_fields=["status", "completed_at"])
    append_order_event(order, "buyer_confirmed", actor=buyer)
    return order


@transaction.atomic
def reveal_card_keys(*, order_id: int, buyer) -> list[inventory.RevealedKey]:
    """The buyer's explicit reveal (card number, if any, and password of each key): the first one
    sets `viewed_at` and is logged."""
    order = lock_order(order_id)
    if order.buyer_id != buyer.pk:
        raise OrderError(_("订单不存在。"))
    secrets, first_time = inventory.reveal_keys(order_id=order.pk)
    if not secrets:
        raise OrderError(_("该订单没有可查看的卡密。"))
    if first_time:
        append_order_event(order, "card_key_revealed", actor=buyer, keys=first_time)
    return secrets


@transaction.atomic
def cancel_order(*, order_id: int, buyer) -> Order:
    order = lock_order(order_id)
    if order.buyer_id != buyer.pk:
        raise OrderError(_("订单不存在。"))
    if order.status != OrderStatus.PENDING:
        raise OrderError(_("只能取消待支付的订单。"))
    order.status = OrderStatus.CANCELLED
    order.save(update_fields=["status"])
    append_order_event(order, "order_cancelled", actor=buyer)
    return order


def expire_pending_orders(now=None) -> int:
    now = now or timezone.now()
    count = 0
    for order_id in Order.objects.filter(status=OrderStatus.PENDING, expires_at__lt=now).values_list(
        "pk", flat=True
    ):
        with transaction.atomic():
            order = lock_order(order_id)
            if order.status == OrderStatus.PENDING:
                order.status = OrderStatus.EXPIRED
                order.save(update_fields=["status"])
                append_order_event(order, "order_expired")
                count += 1
    return count
