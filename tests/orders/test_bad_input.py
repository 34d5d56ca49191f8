"""Bad input on the buying pages and API: every refusal is a clear Chinese message, never a 500,
and nothing is bought or charged."""

import pytest

from kameng.orders.models import Order
from kameng.wallet.services import buyer_balance
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def shopper(client):
    buyer = f.buyer(balance=100_00)
    client.force_login(buyer)
    return buyer


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        ("0", "购买数量至少为 1"),
        ("-1", "购买数量至少为 1"),
        ("abc", "购买数量至少为 1"),
        ("", "购买数量至少为 1"),
        ("1.5", "购买数量至少为 1"),
        ("9999", "每单最多购买 5 件"),
        ("99999999999999999999999", "每单最多购买"),
    ],
)
def test_a_bad_quantity_on_the_buy_form_is_refused_with_a_message(client, shopper, quantity, message):
    product = f.product(price=10_00, keys=3)

    response = client.post(f"/orders/buy/{product.pk}/", {"quantity": quantity}, follow=True)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Order.objects.exists()
    assert buyer_balance(shopper) == 100_00


def test_buying_more_than_the_stock_is_refused(client, shopper):
    product = f.product(price=10_00, keys=2)

    response = client.post(f"/orders/buy/{product.pk}/", {"quantity": "3"}, follow=True)

    assert "库存不足" in response.content.decode()
    assert not Order.objects.exists()
    assert buyer_balance(shopper) == 100_00


def test_buying_a_sold_out_product_is_refused(client, shopper):
    product = f.product(price=10_00, keys=1)
    client.post(f"/orders/buy/{product.pk}/", {"quantity": "1", "accept_terms": "1"})

    response = client.post(f"/orders/buy/{product.pk}/", {"quantity": "1"}, follow=True)

    assert "库存不足" in response.content.decode()
    assert Order.objects.count() == 1
    assert buyer_balance(shopper) == 90_00


def test_an_unknown_pay_method_or_product_is_refused(client, shopper):
    product = f.product(price=10_00, keys=1)

    response = client.post(f"/orders/buy/{product.pk}/", {"pay_method": "bitcoin"}, follow=True)
    assert "不支持的支付方式" in response.content.decode()
    assert client.post("/orders/buy/999999/", {"quantity": "1"}).status_code == 404
    assert not Order.objects.exists()


def test_a_direct_top_up_without_an_account_is_refused(client, shopper):
    product = f.product(kind="direct_topup", price=10_00)

    response = client.post(f"/orders/buy/{product.pk}/", {"target_account": "   "}, follow=True)

    assert "请填写充值账号" in response.content.decode()
    assert not Order.objects.exists()


def test_a_delisted_product_cannot_be_bought(client, shopper):
    product = f.product(price=10_00, keys=1, is_active=False)

    response = client.post(f"/orders/buy/{product.pk}/", {"quantity": "1"}, follow=True)

    assert response.status_code == 200
    assert "该商品已下架" in response.content.decode()
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    "payload",
    [
        {"quantity": 0},
        {"quantity": -1},
        {"quantity": "abc"},
        {"quantity": True},
        {"quantity": 1.5},
        {"quantity": 9999},
        {"product_id": True},
        {"product_id": "1"},
        {"target_account": "x" * 81},
    ],
)
def test_bad_order_payloads_on_the_api_are_422_with_a_chinese_message(client, shopper, payload):
    product = f.product(price=10_00, keys=3)

    response = client.post(
        "/api/orders", {"product_id": product.pk, **payload}, content_type="application/json"
    )

    assert response.status_code == 422
    assert response.json()["detail"] == "请求参数有误"
    assert not Order.objects.exists()


def test_the_api_refuses_more_than_the_per_order_limit_and_out_of_stock(client, shopper):
    product = f.product(price=10_00, keys=2)

    too_many = client.post(
        "/api/orders", {"product_id": product.pk, "quantity": 6}, content_type="application/json"
    )
    short = client.post(
        "/api/orders", {"product_id": product.pk, "quantity": 3}, content_type="application/json"
    )
    missing = client.post("/api/orders", {"product_id": 999999}, content_type="application/json")

    assert (
        too_many.status_code == 422 and "每单最多购买 5 件" in too_many.json()["detail"]
    )  # as the schema refuses
    assert short.status_code == 400 and "库存不足" in short.json()["detail"]
    assert missing.status_code == 404
    assert not Order.objects.exists()
    assert buyer_balance(shopper) == 100_00


def test_malformed_json_on_the_api_is_a_client_error(client, shopper):
    response = client.post("/api/orders", "{not json", content_type="application/json")

    assert 400 <= response.status_code < 500
