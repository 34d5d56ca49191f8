"""Races that open-source card shops lose (SPEC §4): oversold keys, a key given twice, money posted
twice by a repeated callback. These run real threads against PostgreSQL row locks."""

import pytest

from kameng.evidence.models import Event
from kameng.inventory.models import CardKey
from kameng.orders.models import Order, OrderStatus
from kameng.orders.services import OrderError, place_order
from kameng.payments.models import Payment, PaymentStatus
from kameng.wallet.models import Transaction
from kameng.wallet.services import balance_of, buyer_balance, check_ledger, escrow_code
from tests import factories as f

from .helpers import another_payment, at_once, deliver, gateway_order, pay_at_gateway

pytestmark = pytest.mark.django_db(transaction=True)


def _keys_are_each_assigned_once(product):
    assigned = list(
        CardKey.objects.filter(product=product, order__isnull=False).values_list("order_id", flat=True)
    )
    assert len(assigned) == len(set(assigned)), "a card key went to two orders, or an order got two keys"
    return assigned


def test_fifty_buyers_race_for_ten_keys_and_exactly_ten_win(on_postgres):
    product = f.product(price=30_00, keys=10)
    buyers = [f.buyer(balance=100_00) for _ in range(50)]

    results = at_once(50, lambda i: place_order(buyer=buyers[i], product=product).no)

    won = [value for outcome, value in results if outcome == "ok"]
    refused = [value for outcome, value in results if outcome == "error"]
    assert len(won) == 10
    assert len(refused) == 40
    assert all(isinstance(e, OrderError) and "库存不足" in str(e) for e in refused), refused
    assert Order.objects.filter(status=OrderStatus.DELIVERED).count() == 10
    assert Order.objects.exclude(status=OrderStatus.DELIVERED).count() == 0  # refused orders left nothing
    assigned = _keys_are_each_assigned_once(product)
    assert len(assigned) == 10
    assert CardKey.objects.filter(product=product, status="available").count() == 0
    winners = set(Order.objects.values_list("buyer_id", flat=True))
    for buyer in buyers:
        assert buyer_balance(buyer) == (70_00 if buyer.pk in winners else 100_00)
    assert check_ledger() == []


def test_twenty_paid_callbacks_for_five_keys_deliver_five_and_keep_fifteen_paid(on_postgres):
    product = f.product(price=20_00, keys=5)
    buyer = f.buyer()
    # Orders placed while stock showed; gateway orders do not hold keys until paid.
    payments = [gateway_order(buyer, product)[1] for _ in range(20)]
    callbacks = [pay_at_gateway(p) for p in payments]

    results = at_once(20, lambda i: deliver(*callbacks[i]))

    assert [outcome for outcome, _ in results] == ["ok"] * 20
    assert all(r.ok for _, r in results)
    assert Order.objects.filter(status=OrderStatus.DELIVERED).count() == 5
    assert Order.objects.filter(status=OrderStatus.PAID).count() == 15
    assert len(_keys_are_each_assigned_once(product)) == 5
    for order in Order.objects.filter(status=OrderStatus.PAID):
        assert balance_of(escrow_code(order.pk)) == 20_00  # the money is held, not lost
        assert not order.card_keys.exists()
    assert check_ledger() == []


def test_one_callback_sent_twenty_times_at_once_posts_the_money_once(on_postgres):
    buyer = f.buyer()
    order, payment = gateway_order(buyer, f.product(price=15_00, keys=3))
    body, signature = pay_at_gateway(payment)

    results = at_once(20, lambda i: deliver(body, signature))

    assert all(outcome == "ok" and r.ok for outcome, r in results), results
    assert sum(1 for _, r in results if not r.duplicate) == 1
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED
    assert payment.callbacks == 20
    assert Transaction.objects.filter(key=f"payment:sandbox:{payment.gateway_trade_no}").count() == 1
    assert balance_of(escrow_code(order.pk)) == 15_00
    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED
    assert CardKey.objects.filter(order=order).count() == 1
    assert check_ledger() == []


def test_two_different_payments_for_one_order_arriving_together_are_both_kept(on_postgres):
    buyer = f.buyer()
    order, first = gateway_order(buyer, f.product(price=12_00, keys=3))
    second = another_payment(order, buyer)  # the buyer paid again in another tab
    callbacks = [pay_at_gateway(first), pay_at_gateway(second)]

    results = at_once(2, lambda i: deliver(*callbacks[i]))

    assert all(outcome == "ok" and r.ok for outcome, r in results), results
    assert Payment.objects.filter(order=order, status=PaymentStatus.SUCCEEDED).count() == 2
    assert balance_of(escrow_code(order.pk)) == 2 * 12_00
    assert Event.objects.filter(stream=order.stream, kind="duplicate_payment").count() == 1
    assert CardKey.objects.filter(order=order).count() == 1  # paid twice, delivered once
    assert check_ledger() == []
