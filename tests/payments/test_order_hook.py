"""payments sits below orders: a gateway callback for an order reaches orders only through the hook
orders registers (payments.hooks). The hook runs inside the callback's transaction, after the
payment row was locked and the callback deduplicated, and decides under the order's lock."""

from datetime import timedelta

import pytest
from django.db import OperationalError
from django.utils import timezone

from kameng.evidence.models import Event
from kameng.orders.models import OrderStatus
from kameng.orders.services import apply_order_payment, expire_pending_orders
from kameng.payments import hooks
from kameng.payments.models import PaymentStatus
from kameng.payments.services import receive_callback
from kameng.wallet.services import balance_of, buyer_balance, check_ledger, escrow_code
from tests import factories as f
from tests.orders.helpers import gateway_order, pay_at_gateway

pytestmark = pytest.mark.django_db


def callback(body: bytes, signature: str):
    return receive_callback(gateway_name="sandbox", body=body, signature=signature)


def test_a_callback_for_an_order_is_handed_to_orders_which_marks_it_paid_and_delivers():
    buyer = f.buyer()
    order, payment = gateway_order(buyer, f.product(price=15_00, keys=1))

    result = callback(*pay_at_gateway(payment))

    assert result.ok and result.message == "order paid"
    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED
    assert order.paid_at is not None
    assert order.card_keys.filter(status="assigned").count() == 1
    assert balance_of(escrow_code(order.pk)) == 15_00
    kinds = list(Event.objects.filter(stream=order.stream).order_by("seq").values_list("kind", flat=True))
    assert kinds == ["order_placed", "order_paid", "delivered"]
    assert check_ledger() == []


def test_a_late_callback_after_the_order_expired_is_credited_to_the_buyers_balance():
    buyer = f.buyer()
    order, payment = gateway_order(buyer, f.product(price=18_00, keys=1))
    expire_pending_orders(now=timezone.now() + timedelta(hours=1))
    body, signature = pay_at_gateway(payment)

    result = callback(body, signature)

    assert result.ok and result.message == "late payment credited to balance"
    order.refresh_from_db()
    payment.refresh_from_db()
    assert order.status == OrderStatus.EXPIRED and not order.card_keys.exists()
    assert payment.status == PaymentStatus.SUCCEEDED and payment.credited_to_balance
    assert buyer_balance(buyer) == 18_00
    assert f.told(buyer, order.no)
    # The gateway sends it again: deduplicated by payments before the hook, credited once.
    assert callback(body, signature).duplicate
    assert buyer_balance(buyer) == 18_00
    assert check_ledger() == []


def test_the_order_handler_is_the_one_orders_registered_at_start_up():
    received = []

    def spy(payment, *, ledger_key):
        received.append((payment.pk, ledger_key))
        return apply_order_payment(payment, ledger_key=ledger_key)

    buyer = f.buyer()
    _order, payment = gateway_order(buyer, f.product(price=5_00, keys=1))
    hooks.handle_order_payments(spy)
    try:
        body, signature = pay_at_gateway(payment)
        callback(body, signature)
    finally:
        hooks.handle_order_payments(apply_order_payment)

    payment.refresh_from_db()
    assert received == [(payment.pk, f"payment:sandbox:{payment.gateway_trade_no}")]


def test_a_handler_that_fails_rolls_the_whole_callback_back_and_the_retry_pays_the_order():
    def down(payment, *, ledger_key):
        raise OperationalError("orders' database went away")

    buyer = f.buyer()
    order, payment = gateway_order(buyer, f.product(price=9_00, keys=1))
    body, signature = pay_at_gateway(payment)
    hooks.handle_order_payments(down)
    try:
        with pytest.raises(OperationalError):
            callback(body, signature)
    finally:
        hooks.handle_order_payments(apply_order_payment)

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.CREATED  # not marked succeeded without the order's part
    assert payment.callbacks == 0

    assert callback(body, signature).message == "order paid"  # the gateway's retry
    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED
