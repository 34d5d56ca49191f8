"""Issue 14, item 7: an order's status follows its refunds. A fully refunded order reads 已退款 and
a partly refunded one 部分退款, wherever people read it (buyer pages, seller pages, the API), and
the order page offers only what can succeed now."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kameng.orders.models import OrderStatus
from kameng.orders.services import OrderError, confirm_received, place_order
from kameng.refunds.services import seller_agree, submit_refund
from tests import factories as f
from tests.refunds.helpers import delivered_custom_order

pytestmark = pytest.mark.django_db


def refund_part(order, amount: int):
    """The buyer asks for part of the money back and the seller agrees."""
    case = submit_refund(
        order=order,
        actor=order.buyer,
        reason="other",
        demand="partial_refund",
        amount=amount,
        description="少做了",
    )
    return seller_agree(case_id=case.pk, seller_user=order.seller.owner)


def refunded_in_two_parts(buyer):
    """30 of 100 back first, then the remaining 70: all the money went back, in two cases, and the
    order was never voided (each case asked for less than the price)."""
    order = delivered_custom_order(buyer, price=100_00)
    first = refund_part(order, 30_00)
    second = submit_refund(order=order, actor=buyer, reason="other", demand="full_refund", description="全退")
    second = seller_agree(case_id=second.pk, seller_user=order.seller.owner)
    order.refresh_from_db()
    return order, first, second


def status_badge(page: str) -> str:
    return re.search(r'id="order-status">([^<]*)<', page).group(1)


def test_a_fully_refunded_order_reads_refunded_and_offers_neither_confirm_nor_refund(client):
    buyer = f.buyer(balance=100_00)
    order, first, second = refunded_in_two_parts(buyer)
    assert order.status == OrderStatus.DELIVERED  # what is stored: the goods were delivered

    client.force_login(buyer)
    page = client.get(f"/orders/{order.no}/").content.decode()

    assert status_badge(page) == "已退款"
    assert "确认收货" not in page
    assert 'id="request-refund"' not in page
    assert "该订单已全额退款，没有可再退的款项。" in page
    # The order links to each of its refund cases.
    assert f'href="/refunds/{first.pk}/"' in page and f'href="/refunds/{second.pk}/"' in page
    listing = client.get("/orders/").content.decode()
    assert "已退款" in listing and "已发货" not in listing


def test_a_partly_refunded_order_reads_partly_refunded_and_may_ask_for_the_rest(client):
    buyer = f.buyer(balance=100_00)
    order = delivered_custom_order(buyer, price=100_00)
    refund_part(order, 30_00)

    client.force_login(buyer)
    page = client.get(f"/orders/{order.no}/").content.decode()

    assert status_badge(page) == "部分退款"
    assert 'id="request-refund"' in page  # 70 is still there to ask for
    assert "部分退款" in client.get("/orders/").content.decode()


def test_the_seller_sees_the_refund_status_on_its_pages(client):
    buyer = f.buyer(balance=100_00)
    order, *_ = refunded_in_two_parts(buyer)

    client.force_login(order.seller.owner)
    assert status_badge(client.get(f"/orders/{order.no}/seller/").content.decode()) == "已退款"
    assert "已退款" in client.get("/seller/").content.decode()


def test_the_api_says_refunded(client):
    buyer = f.buyer(balance=100_00)
    order, *_ = refunded_in_two_parts(buyer)
    partly = delivered_custom_order(buyer, price=10_00)
    refund_part(partly, 1_00)

    client.force_login(buyer)
    one = client.get(f"/api/orders/{order.no}").json()
    listed = {o["no"]: o for o in client.get("/api/orders").json()["items"]}

    assert (one["refund_state"], one["status_display"]) == ("refunded", "已退款")
    assert listed[partly.no]["refund_state"] == "partly_refunded"
    assert listed[partly.no]["status_display"] == "部分退款"


def test_confirming_a_refunded_order_is_refused_by_the_service_and_the_page():
    buyer = f.buyer(balance=100_00)
    order, *_ = refunded_in_two_parts(buyer)

    with pytest.raises(OrderError, match="已全额退款，不能再确认收货"):
        confirm_received(order_id=order.pk, buyer=buyer)
    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED and order.completed_at is None


def test_an_open_case_is_linked_instead_of_a_second_refund_button(client):
    buyer = f.buyer(balance=100_00)
    order = delivered_custom_order(buyer, price=50_00)
    case = submit_refund(order=order, actor=buyer, reason="other", demand="full_refund", description="没做")

    client.force_login(buyer)
    page = client.get(f"/orders/{order.no}/").content.decode()

    assert 'id="request-refund"' not in page
    assert "该订单有一个进行中的退款申请" in page
    assert f'href="/refunds/{case.pk}/"' in page


@pytest.mark.parametrize("url", ["/orders/", "/seller/"])
def test_the_order_lists_read_refund_status_without_a_query_per_order(client, url):
    buyer = f.buyer(balance=500_00)
    seller = f.seller()
    first = delivered_custom_order(buyer, price=10_00, seller=seller)
    refund_part(first, 1_00)
    client.force_login(buyer if url == "/orders/" else seller.owner)
    with CaptureQueriesContext(connection) as one:
        client.get(url)

    for _ in range(4):
        refund_part(delivered_custom_order(buyer, price=10_00, seller=seller), 1_00)
    with CaptureQueriesContext(connection) as five:
        page = client.get(url).content.decode()

    assert page.count("部分退款") == 5
    assert len(five) == len(one)


def test_a_refunded_card_key_order_offers_no_reveal_of_its_revoked_keys(client):
    buyer = f.buyer(balance=10_00)
    order = place_order(buyer=buyer, product=f.product(price=10_00, keys=1))
    submit_refund(order=order, actor=buyer, reason="other", demand="full_refund")  # unopened: clause 4

    client.force_login(buyer)
    page = client.get(f"/orders/{order.no}/").content.decode()

    assert status_badge(page) == "已退款"
    assert 'id="reveal-btn"' not in page and 'id="keys-revoked"' in page
