"""A product's kind decides how it is delivered and refunded: once it has keys or orders, the seller
cannot turn it into another kind (they make a new product instead)."""

import pytest

from kameng.catalog.models import Product
from tests import factories as f

pytestmark = pytest.mark.django_db


def _edit(client, product, **changes):
    data = {
        "kind": product.kind,
        "name": product.name,
        "description": "",
        "stock": "",
        "max_per_order": 5,
        "promise": "",
        "duration_days": "",
        "is_active": "on",
        "price_yuan": "10.00",
        "face_value_yuan": "",
        **changes,
    }
    return client.post(f"/seller/products/{product.pk}/", data)


def test_a_product_with_keys_keeps_its_kind_and_the_seller_is_told_why(client):
    seller = f.seller()
    product = f.product(price=10_00, keys=2, of=seller)
    client.force_login(seller.owner)

    page = _edit(client, product, kind="activation")

    assert page.status_code == 200
    assert "已有卡密或订单的商品不能更改类型" in page.content.decode()
    assert Product.objects.get(pk=product.pk).kind == "card_key"


def test_a_product_nobody_bought_and_without_keys_can_change_kind(client):
    seller = f.seller()
    product = f.product(kind="activation", price=10_00, of=seller)
    client.force_login(seller.owner)

    answer = _edit(client, product, kind="custom_service", name="改成代练")

    assert answer.status_code == 302
    assert Product.objects.get(pk=product.pk).kind == "custom_service"
