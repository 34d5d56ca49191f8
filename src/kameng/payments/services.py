"""Payments: starting them, taking the gateway's word for them, top-ups, and money sent back through
the gateway. Each public function is one transaction (or part of the caller's).

Payments sits below orders: it never imports it. A succeeded order payment is handed to orders
through `payments.hooks` (see there for what is done before and what the handler must do).
"""

import logging
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from kameng.accounts.services import notify
from kameng.money import yuan
from kameng.numbering import new_no
from kameng.sentences import Sentence
from kameng.wallet import services as wallet
from kameng.wallet.services import Line

from . import hooks
from .gateway import Callback, GatewayError, get_gateway
from .models import GatewayRefund, Payment, PaymentStatus, PayMethod

log = logging.getLogger(__name__)

MAX_TOPUP = 5_000_00  # 分: one top-up at most ¥5000
MIN_TOPUP = 1_00


class PaymentError(Exception):
    """A request the payments side refuses; the message is for the user, in their language."""


def new_trade_no() -> str:
    """A fresh merchant trade number (商户单号)."""
    return new_no("P")


# --- money coming in -------------------------------------------------------------------------------


def _selectable(gateway: str):
    """The gateway a new payment may use; PaymentError when it is unknown or switched off (the
    sandbox outside KAMENG_SANDBOX), so the buyer gets a message, not a 500."""
    try:
        return get_gateway(gateway)
    except KeyError:
        raise PaymentError(_("在线支付暂未开通，请使用余额支付。")) from None


def record_balance_payment(*, user, order, amount: int) -> Payment:
    """An order paid from the buyer's balance: succeeded at once. Moving the money is the caller's
    part (a ledger posting in the same transaction)."""
    return Payment.objects.create(
        out_trade_no=new_trade_no(),
        user=user,
        order=order,
        purpose=Payment.Purpose.ORDER,
        method=PayMethod.BALANCE,
        amount=amount,
        status=PaymentStatus.SUCCEEDED,
        paid_at=timezone.now(),
    )


@transaction.atomic
def start_gateway_payment(*, user, order, amount: int, subject: str, gateway: str = "sandbox"):
    """A new gateway payment attempt for an order; returns (payment, the URL where the buyer pays).
    Whether the order still wants money is the caller's check, under its order lock."""
    adapter = _selectable(gateway)
    payment = Payment.objects.create(
        out_trade_no=new_trade_no(),
        user=user,
        order=order,
        purpose=Payment.Purpose.ORDER,
        method=PayMethod.GATEWAY,
        gateway=gateway,
        amount=amount,
    )
    url = adapter.create_trade(out_trade_no=payment.out_trade_no, amount=amount, subject=subject)
    return payment, url


@transaction.atomic
def start_topup(*, user, amount: int) -> tuple[Payment, str]:
    """A wallet top-up through the gateway; returns (payment, the URL where the buyer pays)."""
    if not isinstance(amount, int) or isinstance(amount, bool) or amount < MIN_TOPUP:
        raise PaymentError(_("充值金额至少 1 元。"))
    if amount > MAX_TOPUP:
        raise PaymentError(_("单次充值最多 %(n)d 元。") % {"n": MAX_TOPUP // 100})
    adapter = _selectable("sandbox")
    payment = Payment.objects.create(
        out_trade_no=new_trade_no(),
        user=user,
        purpose=Payment.Purpose.TOPUP,
        method=PayMethod.GATEWAY,
        gateway="sandbox",
        amount=amount,
    )
    url = adapter.create_trade(out_trade_no=payment.out_trade_no, amount=amount, subject="余额充值")
    return payment, url


@dataclass(frozen=True)
class CallbackResult:
    ok: bool
    message: str
    duplicate: bool = False


def receive_callback(*, gateway_name: str, body: bytes, signature: str) -> CallbackResult:
    """A gateway callback. Bad signature or amount: refused and logged. Replays: acknowledged, no effect.

    A good signature is not enough: a leaked or default secret lets anyone sign. Before any money
    moves we ask the gateway itself about the trade (`query`, outside any lock: it may be a network
    call) and apply only what the gateway confirms: the same trade, status and amount."""
    gateway = get_gateway(gateway_name)
    try:
        cb = gateway.verify(body, signature)
    except ValueError as e:
        log.warning("payment callback refused (%s): gateway=%s", e, gateway_name)
        return CallbackResult(False, "bad signature")
    try:
        confirmed = gateway.query(cb.out_trade_no)
    except GatewayError as e:
        log.warning(
            "payment callback refused: gateway=%s out_trade_no=%s could not be confirmed (%s)",
            gateway_name,
            cb.out_trade_no,
            e,
        )
        return CallbackResult(False, "not confirmed")
    refusal = _unconfirmed(cb, confirmed)
    if refusal:
        # Never the body or signature: only what identifies the trade and why it was refused.
        log.warning(
            "payment callback refused (%s): gateway=%s out_trade_no=%s",
            refusal,
            gateway_name,
            cb.out_trade_no,
        )
        return CallbackResult(False, refusal)
    return apply_gateway_result(gateway_name=gateway_name, cb=confirmed)


def _unconfirmed(cb: Callback, confirmed: Callback | None) -> str:
    """Why the gateway's own answer does not back the callback ("" when it does)."""
    if confirmed is None:
        return "not confirmed"
    if confirmed.amount != cb.amount:
        return "amount mismatch"
    if (confirmed.out_trade_no, confirmed.trade_no, confirmed.status) != (
        cb.out_trade_no,
        cb.trade_no,
        cb.status,
    ):
        return "not confirmed"
    return ""


@transaction.atomic
def apply_gateway_result(*, gateway_name: str, cb: Callback) -> CallbackResult:
    """What the gateway says about one trade, from a callback or a query; deduplicated on the
    gateway's trade number under the payment's row lock."""
    payment = Payment.objects.select_for_update().filter(out_trade_no=cb.out_trade_no).first()
    if payment is None or payment.gateway != gateway_name:
        log.warning("payment callback for unknown out_trade_no=%s", cb.out_trade_no)
        return CallbackResult(False, "unknown trade")
    Payment.objects.filter(pk=payment.pk).update(callbacks=F("callbacks") + 1)
    if payment.status != PaymentStatus.CREATED:
        if payment.gateway_trade_no == cb.trade_no:
            return CallbackResult(True, "already processed", duplicate=True)
        log.warning(
            "payment %s: second trade %s differs from %s",
            payment.out_trade_no,
            cb.trade_no,
            payment.gateway_trade_no,
        )
        return CallbackResult(False, "conflicting trade")
    if cb.amount != payment.amount:
        log.warning(
            "payment %s: callback amount %s != %s, refused", payment.out_trade_no, cb.amount, payment.amount
        )
        return CallbackResult(False, "amount mismatch")
    if cb.status != "SUCCESS":
        payment.status = PaymentStatus.FAILED
        payment.gateway_trade_no = cb.trade_no
        payment.save(update_fields=["status", "gateway_trade_no"])
        return CallbackResult(True, "failed recorded")
    payment.status = PaymentStatus.SUCCEEDED
    payment.gateway_trade_no = cb.trade_no
    payment.paid_at = timezone.now()
    payment.save(update_fields=["status", "gateway_trade_no", "paid_at"])
    money_in = f"payment:{gateway_name}:{cb.trade_no}"
    if payment.purpose == Payment.Purpose.TOPUP:
        wallet.post(
            key=money_in,
            kind="topup",
            reference=payment.out_trade_no,
            lines=[
                Line(wallet.GATEWAY, -payment.amount),
                Line(wallet.buyer_code(payment.user_id), payment.amount),
            ],
        )
        notify(
            payment.user,
            Sentence(gettext_noop("充值成功：¥%(amt)s 已到账。"), amt=yuan(payment.amount)),
            "/wallet/",
        )
        return CallbackResult(True, "topup credited")
    return CallbackResult(True, hooks.order_payment_succeeded(payment, ledger_key=money_in))


def sync_payment(payment: Payment) -> None:
    """Ask the gateway about a payment we have no callback for yet (the buyer's return page does this)."""
    if payment.status != PaymentStatus.CREATED or payment.method != PayMethod.GATEWAY:
        return
    try:
        gateway = get_gateway(payment.gateway)
    except KeyError:
        return  # switched off since (the sandbox outside KAMENG_SANDBOX): nothing to ask
    cb = gateway.query(payment.out_trade_no)
    if cb is not None:
        apply_gateway_result(gateway_name=payment.gateway, cb=cb)


def mark_credited_to_balance(payment: Payment) -> None:
    """The order could no longer take this payment's money: it went to the buyer's balance instead
    (the order-payment handler posts it). Part of the caller's transaction."""
    payment.credited_to_balance = True
    payment.save(update_fields=["credited_to_balance"])


# --- money going back through the gateway ---------------------------------------------------------


def create_gateway_refund(*, key: str, payment: Payment, amount: int) -> GatewayRefund:
    """A refund to send back through `payment`'s gateway. `key` is the gateway's idempotency key for
    every attempt, so write it in the same transaction as the decision to refund."""
    return GatewayRefund.objects.create(key=key, payment=payment, amount=amount)


def send_gateway_refund(gateway_refund: GatewayRefund) -> str:
    """Send (or send again) one gateway refund; returns the gateway's refund number. Call it outside
    any transaction that holds locks: it talks to the gateway. The gateway deduplicates on the row's
    key, so a retry never pays twice. A failed attempt is recorded on the row (status failed,
    attempts + 1, the error) and kept, never deleted, so the retry reuses the key; then
    GatewayError is raised again for the caller to decide when to retry."""
    payment = gateway_refund.payment
    try:
        try:
            gateway = get_gateway(payment.gateway)
        except KeyError:
            raise GatewayError(f"gateway {payment.gateway} is not available") from None
        return gateway.refund(
            key=gateway_refund.key, trade_no=payment.gateway_trade_no, amount=gateway_refund.amount
        )
    except GatewayError as e:
        GatewayRefund.objects.filter(pk=gateway_refund.pk).update(
            status=GatewayRefund.Status.FAILED, last_error=str(e)[:200], attempts=F("attempts") + 1
        )
        raise


def mark_gateway_refund_succeeded(gateway_refund: GatewayRefund, *, refund_no: str) -> None:
    """The gateway took the refund (`refund_no` is what `send_gateway_refund` returned). Part of the
    caller's transaction, the one that records the refund as paid out."""
    GatewayRefund.objects.filter(pk=gateway_refund.pk).update(
        status=GatewayRefund.Status.SUCCEEDED, gateway_refund_no=refund_no, attempts=F("attempts") + 1
    )
