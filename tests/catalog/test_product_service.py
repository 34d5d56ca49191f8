"""Products are created and changed through catalog.services, from the seller's form and from the
API alike: a seller changes only their own goods, and a refused change says why and saves nothing."""

import pytest

from kameng.accounts.api import issue_token
from kameng.catalog.models import Product
from kameng.catalog.services import CatalogError, create_product, update_product
from tests import factories as f

pytestmark = pytest.mark.django_db


def card(seller, **fields) -> Product:
    return create_product(
        seller=seller, **{"kind": "card_key", "name": "点卡 50元", "price": 48_00, **fields}
    )


def test_a_seller_creates_a_product_with_money_in_fen():
    seller = f.seller()

    product = card(seller, face_value=50_00, max_per_order=3)

    product.refresh_from_db()
    assert (product.seller, product.price, product.face_value, product.max_per_order) == (
        seller,
        48_00,
        50_00,
        3,
    )


def test_a_seller_cannot_change_another_sellers_product():
    mine, theirs = f.seller(), f.seller()
    product = card(theirs)

    with pytest.raises(CatalogError, match="商品不存在"):
        update_product(product_id=product.pk, seller=mine, price=1)

    product.refresh_from_db()
    assert product.price == 48_00


@pytest.mark.parametrize(
    ("changes", "field", "says"),
    [
        ({"price": 0}, "price", "售价须在 0.01 元到 100000 元之间"),
        ({"price": 100_000_01}, "price", "售价须在"),
        ({"face_value": -1}, "face_value", "面值须在"),
        ({"max_per_order": 0}, "max_per_order", "每单限购须在 1 到 100 件之间"),
        ({"name": ""}, "name", "商品名"),
        ({"kind": "lottery"}, "kind", "类型"),
        ({"stock": -5}, "stock", "库存"),
    ],
)
def test_bad_input_is_refused_with_the_field_and_the_reason_and_nothing_is_saved(changes, field, says):
    seller = f.seller()
    product = card(seller)
    before = Product.objects.filter(pk=product.pk).values().get()

    with pytest.raises(CatalogError) as refused:
        update_product(product_id=product.pk, seller=seller, **{"name": "改名了", **changes})

    assert says in str(refused.value)
    assert field in refused.value.errors
    assert Product.objects.filter(pk=product.pk).values().get() == before
    with pytest.raises(CatalogError):
        card(seller, **changes)
    assert Product.objects.filter(seller=seller).count() == 1


def test_a_product_with_keys_keeps_its_kind():
    seller = f.seller()
    product = f.product(price=10_00, keys=1, of=seller)

    with pytest.raises(CatalogError, match="已有卡密或订单的商品不能更改类型"):
        update_product(product_id=product.pk, seller=seller, kind="activation")

    assert Product.objects.get(pk=product.pk).kind == "card_key"


def test_only_product_fields_can_be_set():
    with pytest.raises(TypeError, match="seller_id"):
        card(f.seller(), seller_id=1)


# --- the same rules through the pages and the API -----------------------------------------------


def test_the_form_shows_the_services_refusal_on_the_field_and_saves_nothing(client):
    seller = f.seller()
    product = card(seller)
    client.force_login(seller.owner)

    page = client.post(
        f"/seller/products/{product.pk}/",
        {"kind": "card_key", "name": "点卡", "price_yuan": "10.00", "max_per_order": 500, "is_active": "on"},
    )

    assert page.status_code == 200
    assert "每单限购须在 1 到 100 件之间" in page.content.decode()
    assert Product.objects.get(pk=product.pk).max_per_order == 5


def test_a_seller_cannot_open_another_sellers_product_form(client):
    product = card(f.seller())
    other = f.seller()
    client.force_login(other.owner)

    assert client.get(f"/seller/products/{product.pk}/").status_code == 404
    assert client.post(f"/seller/products/{product.pk}/", {"name": "x"}).status_code == 404


def api(client, user):
    return {"HTTP_AUTHORIZATION": f"Bearer {issue_token(user)}"}


def test_a_seller_creates_and_changes_a_product_through_the_api(client):
    seller = f.seller()
    auth = api(client, seller.owner)

    created = client.post(
        "/api/catalog/products",
        {"kind": "direct_topup", "name": "话费 50元", "price": 49_50, "face_value": 50_00},
        content_type="application/json",
        **auth,
    )
    assert created.status_code == 201, created.content
    product_id = created.json()["id"]

    changed = client.patch(
        f"/api/catalog/products/{product_id}", {"price": 48_80}, content_type="application/json", **auth
    )

    assert changed.status_code == 200
    product = Product.objects.get(pk=product_id)
    assert (product.seller, product.name, product.price) == (seller, "话费 50元", 48_80)


def test_the_api_refuses_another_sellers_product_bad_input_and_buyers(client):
    product = card(f.seller())
    other = f.seller()
    mine = card(other)

    not_mine = client.patch(
        f"/api/catalog/products/{product.pk}",
        {"price": 1_00},
        content_type="application/json",
        **api(client, other.owner),
    )
    kind_change = client.patch(
        f"/api/catalog/products/{mine.pk}",
        {"name": ""},
        content_type="application/json",
        **api(client, other.owner),
    )
    buyer = client.post(
        "/api/catalog/products",
        {"kind": "card_key", "name": "x", "price": 1_00},
        content_type="application/json",
        **api(client, f.buyer()),
    )

    assert not_mine.status_code == 404
    assert kind_change.status_code == 400 and "商品名" in kind_change.json()["detail"]
    assert buyer.status_code == 403
    assert Product.objects.get(pk=product.pk).price == 48_00
    assert Product.objects.get(pk=mine.pk).name == "点卡 50元"
