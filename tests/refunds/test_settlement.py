"""After the refund window the seller is paid; a refund after that is clawed back from the seller."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kameng.orders.models import Order
from kameng.orders.services import deliver_custom_service, place_order
from kameng.refunds import settlement
from kameng.refunds.models import RefundCase, Stage
from kameng.refunds.services import seller_refuse, submit_refund
from kameng.refunds.settlement import settle_due_orders
from kameng.wallet.services import REVENUE, balance_of, buyer_balance, check_ledger, escrow_code, seller_code
from tests import factories as f

from .helpers import agent, decide, screenshot

pytestmark = pytest.mark.django_db

LATER = timezone.now() + timedelta(days=8)


def delivered_service(buyer, shop, price=80_00):
    order = place_order(buyer=buyer, product=f.product(kind="custom_service", price=price, of=shop))
    deliver_custom_service(order_id=order.pk, seller_user=shop.owner, note="已完成")
    return Order.objects.get(pk=order.pk)


def test_the_seller_is_paid_once_the_window_passes_and_only_once():
    buyer, shop = f.buyer(balance=100_00), f.seller()
    order = delivered_service(buyer, shop)

    assert settle_due_orders(now=timezone.now()) == 0  # still inside the 7-day window
    assert settle_due_orders(now=LATER) == 1
    assert settle_due_orders(now=LATER) == 0

    assert balance_of(escrow_code(order.pk)) == 0
    assert balance_of(seller_code(shop.pk)) == 80_00
    assert check_ledger() == []


def test_platform_goods_settle_to_platform_revenue():
    buyer = f.buyer(balance=50_00)
    order = place_order(buyer=buyer, product=f.product(price=30_00, keys=1, of=f.seller(platform=True)))
    settle_due_orders(now=LATER)
    assert balance_of(REVENUE) == 30_00 and balance_of(escrow_code(order.pk)) == 0


def test_an_open_case_keeps_the_money_in_escrow():
    buyer, shop = f.buyer(balance=100_00), f.seller()
    order = delivered_service(buyer, shop)
    submit_refund(
        order=order,
        actor=buyer,
        reason="not_as_described",
        demand="full_refund",
        evidence=[screenshot("seller_promise"), screenshot("shortfall_proof")],
    )

    assert settle_due_orders(now=LATER) == 0
    assert balance_of(escrow_code(order.pk)) == 80_00


def test_a_refund_after_settlement_is_clawed_back_from_the_seller():
    buyer, shop = f.buyer(balance=100_00), f.seller()
    order = delivered_service(buyer, shop)
    settle_due_orders(now=LATER)
    case = submit_refund(
        order=order,
        actor=buyer,
        reason="not_as_described",
        demand="full_refund",
        evidence=[screenshot("seller_promise"), screenshot("shortfall_proof")],
    )
    seller_refuse(
        case_id=case.pk, seller_user=shop.owner, note="已按要求完成", evidence=[screenshot("proof")]
    )

    case = decide("partial", case_id=case.pk, agent=agent(), amount=50_00, note="部分未达标")

    assert case.stage == Stage.REFUNDED
    assert buyer_balance(buyer) == 20_00 + 50_00
    assert balance_of(seller_code(shop.pk)) == 30_00
    assert check_ledger() == []
    # Nothing more than what is left can be refunded for that order.
    with pytest.raises(Exception, match="可退"):
        submit_refund(order=order, actor=buyer, reason="other", demand="partial_refund", amount=31_00)


def statements_of_a_tick_settlement(now) -> int:
    settle_due_orders(now=now)  # the clauses, cached for a few seconds, read if they must be
    with CaptureQueriesContext(connection) as tick:
        settle_due_orders(now=now)
    return len(tick)


def test_settled_orders_are_marked_and_never_read_again_by_the_tick():
    buyer, shop = f.buyer(balance=1_000_00), f.seller()
    for _ in range(3):
        delivered_service(buyer, shop, price=10_00)
    assert settle_due_orders(now=LATER) == 3
    after_3 = statements_of_a_tick_settlement(LATER)
    for _ in range(27):
        delivered_service(buyer, shop, price=10_00)
    assert settle_due_orders(now=LATER) == 27

    assert statements_of_a_tick_settlement(LATER) == after_3 == 1  # the due query, which finds nothing
    assert not Order.objects.filter(settlement_window_from__isnull=False).exists()


def test_an_order_held_by_an_open_case_is_looked_at_again_later_not_on_every_tick():
    buyer, shop = f.buyer(balance=100_00), f.seller()
    order = delivered_service(buyer, shop)
    case = submit_refund(
        order=order,
        actor=buyer,
        reason="not_as_described",
        demand="full_refund",
        evidence=[screenshot("seller_promise"), screenshot("shortfall_proof")],
    )
    assert settle_due_orders(now=LATER) == 0
    assert statements_of_a_tick_settlement(LATER) == 1  # held back: not due again for a while

    seller_refuse(case_id=case.pk, seller_user=shop.owner, note="已完成", evidence=[screenshot("proof")])
    decide("reject", case_id=case.pk, agent=agent(), note="服务已按约完成")
    assert not RefundCase.objects.get(pk=case.pk).is_open
    # The case is closed: the next look, once the hold is over, settles the order.
    assert settle_due_orders(now=LATER + settlement.RECHECK) == 1
    assert balance_of(seller_code(shop.pk)) == 80_00
