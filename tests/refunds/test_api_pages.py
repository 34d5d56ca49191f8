"""API lists go on past their first page, and a client cannot ask for an unbounded one."""

import pytest
from django.test import Client

from kameng.apitypes import MAX_PAGE_SIZE, PAGE_SIZE
from kameng.ops.scale import seed_cases
from kameng.orders.services import place_order
from tests import factories as f

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_seller_pages_through_every_case_of_the_shop():
    seeded = seed_cases(2 * (MAX_PAGE_SIZE + 10))  # half of them the first shop's
    api = logged_in(seeded.seller_owner)

    first = api.get("/api/refunds").json()
    second = api.get("/api/refunds", {"page": 2}).json()
    everything = api.get("/api/refunds", {"page_size": 10_000}).json()

    assert first["count"] == second["count"] == MAX_PAGE_SIZE + 10
    assert len(first["items"]) == PAGE_SIZE
    ids = [c["id"] for c in first["items"] + second["items"]]
    assert len(set(ids)) == len(ids) == 2 * PAGE_SIZE  # page 2 holds the next cases, none twice
    assert len(everything["items"]) == MAX_PAGE_SIZE  # asked for more: capped
    assert api.get("/api/refunds", {"page": 0}).status_code == 422


def test_a_buyer_sees_their_own_cases_on_the_page_not_the_shops():
    seeded = seed_cases(9)
    mine = logged_in(seeded.buyer).get("/api/refunds").json()
    assert mine["count"] == len(mine["items"]) == 3  # 3 of the 9, the shops' others not among them
    assert seeded.case_id in [c["id"] for c in mine["items"]]


def test_orders_are_paged_too():
    buyer = f.buyer(balance=1_000_00)
    product = f.product(price=1_00, keys=PAGE_SIZE + 2)
    for _ in range(PAGE_SIZE + 2):
        place_order(buyer=buyer, product=product)
    api = logged_in(buyer)

    second = api.get("/api/orders", {"page": 2}).json()
    assert second["count"] == PAGE_SIZE + 2 and len(second["items"]) == 2
