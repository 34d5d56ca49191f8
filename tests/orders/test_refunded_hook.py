"""The order page says, next to each payment, what was already sent back through it. Refunds live
above orders, so the page asks through orders.hooks; the refunds app answers (refunds/hooks.py)."""

import pytest

from kameng.orders import hooks
from kameng.refunds import hooks as refunds_hooks
from kameng.refunds.services import submit_refund
from kameng.wallet.services import buyer_balance
from tests import factories as f
from tests.refunds.helpers import gateway_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def provider():
    """Lets a test stand in for the refunds app, and puts the real provider back afterwards."""
    yield hooks.provide_refunded_amounts
    hooks.provide_refunded_amounts(refunds_hooks.refunded_amounts)


def order_page(client, buyer, order) -> str:
    client.force_login(buyer)
    return client.get(f"/orders/{order.no}/").content.decode()


def test_the_order_page_shows_the_refunded_extra_payment_and_stops_calling_it_a_duplicate(client):
    buyer = f.buyer()
    order = gateway_order(buyer, f.product(price=12_00, keys=2), pays=2)
    assert 'id="duplicate-warning"' in order_page(client, buyer, order)

    submit_refund(order=order, actor=buyer, reason="duplicate_payment", demand="full_refund")

    assert buyer_balance(buyer) == 12_00
    page = order_page(client, buyer, order)
    assert page.count("已退回 ¥12.00") == 1  # next to the extra payment only
    assert 'id="duplicate-warning"' not in page


def test_the_refunds_app_registered_its_answer_at_start_up():
    buyer = f.buyer()
    order = gateway_order(buyer, f.product(price=8_00, keys=2), pays=2)
    submit_refund(order=order, actor=buyer, reason="duplicate_payment", demand="full_refund")
    first, extra = order.payments.order_by("pk")

    assert hooks.refunded_amounts([first, extra]) == {extra.pk: 8_00}


def test_the_page_shows_whatever_the_registered_provider_says(client, provider):
    buyer = f.buyer()
    order = gateway_order(buyer, f.product(price=20_00, keys=2), pays=2)
    first = order.payments.order_by("pk").first()

    provider(lambda payments: {first.pk: 3_45})

    page = order_page(client, buyer, order)
    assert "已退回 ¥3.45" in page
    assert 'id="duplicate-warning"' in page  # 16.55 of the first and all of the second still held


def test_without_a_provider_nothing_shows_as_refunded(client, provider):
    buyer = f.buyer()
    order = gateway_order(buyer, f.product(price=6_00, keys=2), pays=2)
    submit_refund(order=order, actor=buyer, reason="duplicate_payment", demand="full_refund")

    provider(lambda payments: {})

    assert "已退回" not in order_page(client, buyer, order)
