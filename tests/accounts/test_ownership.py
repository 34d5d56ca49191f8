"""Every page and API call checks the role and the object (SPEC §1): someone else's order is 404, a
buyer is not a seller, and anonymous visitors are sent to log in."""

import pytest

from kameng.inventory.models import CardKey
from kameng.orders.services import place_order
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def victims_order():
    owner = f.buyer(balance=50_00)
    return place_order(buyer=owner, product=f.product(price=10_00, keys=2))


@pytest.fixture
def stranger(client):
    user = f.buyer(balance=50_00)
    client.force_login(user)
    return user


def test_another_buyers_order_page_is_not_found(client, stranger, victims_order):
    response = client.get(f"/orders/{victims_order.no}/")

    assert response.status_code == 404
    assert victims_order.product.name not in response.content.decode()


def test_another_buyers_card_key_cannot_be_revealed_on_the_page_or_the_api(client, stranger, victims_order):
    page = client.post(f"/orders/{victims_order.no}/reveal/")
    api = client.post(f"/api/orders/{victims_order.no}/reveal")

    assert page.status_code == 404
    assert api.status_code == 404
    assert "KEY-" not in page.content.decode() + api.content.decode()
    assert CardKey.objects.get(order=victims_order).viewed_at is None


def test_another_buyers_order_is_not_found_on_the_api(client, stranger, victims_order):
    assert client.get(f"/api/orders/{victims_order.no}").status_code == 404
    assert victims_order.no not in client.get("/api/orders").content.decode()


@pytest.mark.parametrize("action", ["cancel", "confirm", "pay"])
def test_another_buyer_cannot_act_on_my_order(client, stranger, victims_order, action):
    assert client.post(f"/orders/{victims_order.no}/{action}/").status_code == 404
    assert client.post(f"/api/orders/{victims_order.no}/{action}").status_code == 404
    victims_order.refresh_from_db()
    assert victims_order.status == "delivered"


def test_an_order_number_that_does_not_exist_is_not_found(client, stranger):
    assert client.get("/orders/KM-NO-SUCH/").status_code == 404
    assert client.get("/api/orders/KM-NO-SUCH").status_code == 404


def test_the_owner_reveals_their_key_and_the_first_view_is_recorded(client, victims_order):
    client.force_login(victims_order.buyer)

    response = client.post(f"/orders/{victims_order.no}/reveal/", follow=True)

    assert response.redirect_chain == [(f"/orders/{victims_order.no}/#card-keys", 302)]
    assert response["Cache-Control"] == "no-store"
    assert f"KEY-{victims_order.product_id}-" in response.content.decode()
    assert CardKey.objects.get(order=victims_order).viewed_at is not None


def test_a_buyer_opening_the_seller_pages_is_forbidden(client, stranger, victims_order):
    assert client.get("/seller/").status_code == 403
    assert client.get("/seller/products/new/").status_code == 403
    assert client.get(f"/orders/{victims_order.no}/seller/").status_code == 403


def test_a_seller_sees_only_their_own_orders(client, victims_order):
    client.force_login(f.seller().owner)

    assert client.get(f"/orders/{victims_order.no}/seller/").status_code == 404
    assert client.get(f"/seller/products/{victims_order.product_id}/").status_code == 404


def test_the_seller_of_the_order_sees_it_without_the_secret(client, victims_order):
    client.force_login(victims_order.seller.owner)

    response = client.get(f"/orders/{victims_order.no}/seller/")

    assert response.status_code == 200
    assert f"KEY-{victims_order.product_id}-" not in response.content.decode()


@pytest.mark.parametrize("url", ["/orders/", "/wallet/", "/seller/"])
def test_anonymous_visitors_are_sent_to_log_in(client, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_anonymous_order_pages_do_not_leak_the_order(client, victims_order):
    response = client.get(f"/orders/{victims_order.no}/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize(
    ("method", "url"),
    [("get", "/api/orders"), ("get", "/api/wallet"), ("post", "/api/wallet/topups"), ("post", "/api/orders")],
)
def test_the_api_without_login_answers_401_in_chinese(client, method, url):
    response = getattr(client, method)(
        url, {"amount": 100} if method == "post" else None, content_type="application/json"
    )

    assert response.status_code == 401
    assert response.json()["detail"] == "请先登录"


def test_the_public_catalog_api_needs_no_login(client):
    product = f.product(price=10_00, keys=2)

    response = client.get(f"/api/catalog/products/{product.pk}")

    assert response.status_code == 200
    assert response.json()["available"] == 2
