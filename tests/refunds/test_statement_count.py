"""The objective refund's statements, counted with the plain ORM: a change that adds a round trip
to the path every objective refund takes shows here, whatever the machine's speed."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kameng.orders.services import place_order
from kameng.refunds.models import Stage
from kameng.refunds.services import submit_refund
from kameng.wallet.services import buyer_balance
from tests import factories as f

from .helpers import pay_online

pytestmark = pytest.mark.django_db

# What an undelivered card-key order's refund sends, written down when the refund core became plain
# Django (30 on both databases): a savepoint around it all; lock the order; the evidence rules and
# clauses (each process caches them for 5 s); the order's card keys, payments, delivery and money;
# whether a case is open; insert the case; void the delivery and the order, append the order's event
# (head read, insert); post the ledger transaction (key look-up, accounts, the buyer's account on
# first use in a savepoint, lock and sum the escrow, a savepoint around the transaction and its
# postings); the payout; update the case; its events and the notice, one insert each. Since issue 16
# sealed each stream's head, the order's and the case's heads move with their events: one upsert
# each (32).
OBJECTIVE_REFUND_STATEMENTS = 32


def undelivered_order(buyer):
    """A card-key order paid online after the last key went to someone else: paid, not delivered."""
    product = f.product(price=30_00, keys=1)
    order = place_order(buyer=buyer, product=product, pay_method="gateway")
    place_order(buyer=f.buyer(balance=50_00), product=product)
    pay_online(order, buyer)
    order.refresh_from_db()
    assert order.status == "paid"
    return order


def test_an_objective_refund_takes_a_fixed_number_of_statements(django_assert_max_num_queries):
    buyer = f.buyer()
    order = undelivered_order(buyer)

    with django_assert_max_num_queries(OBJECTIVE_REFUND_STATEMENTS):
        case = submit_refund(order=order, actor=buyer, reason="not_received", demand="full_refund")

    assert case.stage == Stage.REFUNDED
    assert buyer_balance(buyer) == 30_00


def test_a_second_refund_of_another_order_takes_no_more():
    """Statement counts do not grow with the data already there."""
    buyer = f.buyer()
    for _ in range(5):
        submit_refund(
            order=undelivered_order(buyer), actor=buyer, reason="not_received", demand="full_refund"
        )
    order = undelivered_order(buyer)
    with CaptureQueriesContext(connection) as sixth:
        submit_refund(order=order, actor=buyer, reason="not_received", demand="full_refund")
    assert len(sixth) <= OBJECTIVE_REFUND_STATEMENTS
