"""How many pieces one order may hold is one rule: the product's 每单限购, at most the platform's
MAX_PER_ORDER. The OpenAPI schema states the platform bound, the API answers 422 above the
product's own limit, and the service's message names the same number."""

import pytest

from kameng.catalog.services import MAX_PER_ORDER
from kameng.orders.services import OrderError, place_order
from tests import factories as f

pytestmark = pytest.mark.django_db


def _order(client, product, quantity):
    return client.post(
        "/api/orders",
        {"product_id": product.pk, "quantity": quantity, "accept_terms": True},
        content_type="application/json",
    )


def test_the_schema_bounds_quantity_by_the_platform_rule(client):
    schema = client.get("/api/openapi.json").json()
    quantity = schema["components"]["schemas"]["OrderIn"]["properties"]["quantity"]

    assert quantity["maximum"] == MAX_PER_ORDER
    assert quantity["minimum"] == 1
    assert "每单限购" in quantity.get("description", "") or "max_per_order" in quantity.get("description", "")


def test_above_the_products_limit_is_a_422_naming_the_limit(client):
    buyer = f.buyer(balance=1000_00)
    product = f.product(keys=10, max_per_order=3)
    client.force_login(buyer)

    too_many = _order(client, product, 4)

    assert too_many.status_code == 422
    assert "3" in too_many.json()["detail"]
    assert _order(client, product, 3).status_code == 201


def test_above_the_platform_bound_is_a_422_from_the_schema(client):
    client.force_login(f.buyer(balance=1000_00))
    product = f.product(keys=1, max_per_order=MAX_PER_ORDER)

    assert _order(client, product, MAX_PER_ORDER + 1).status_code == 422


def test_the_service_refuses_above_the_products_limit_with_the_same_number():
    buyer = f.buyer(balance=1000_00)
    product = f.product(keys=10, max_per_order=5)

    with pytest.raises(OrderError, match="5"):
        place_order(buyer=buyer, product=product, quantity=6)
