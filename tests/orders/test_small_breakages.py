"""Issue 14, item 12 (part): revealing a key asks first and ends on the order page (post/redirect/
get); a sold-out product says 已售罄; the seller's product form keeps only its kind's fields; form
errors sit next to their field."""

import re

import pytest

from kameng.catalog.models import Product
from kameng.inventory.models import CardKey
from kameng.orders.models import Order
from kameng.orders.services import place_order
from tests import factories as f

pytestmark = pytest.mark.django_db


def field_row(page: str, row_id: str) -> str:
    """The HTML of the <p> that holds one field (its label, input and errors)."""
    return re.search(rf'<p[^>]*id="{row_id}"[^>]*>.*?</p>', page, re.S).group(0)


def test_revealing_asks_first_then_redirects_to_the_order_showing_the_key_once(client):
    buyer = f.buyer(balance=10_00)
    order = place_order(buyer=buyer, product=f.product(price=10_00, keys=1))
    client.force_login(buyer)

    detail = client.get(f"/orders/{order.no}/").content.decode()
    assert f'href="/orders/{order.no}/reveal/"' in detail  # a link to the question, not the reveal
    question = client.get(f"/orders/{order.no}/reveal/").content.decode()
    assert "查看后即视为已拆封" in question and "第4条 未查看卡密（v1）" in question
    assert CardKey.objects.get(order=order).viewed_at is None  # asking reveals nothing

    done = client.post(f"/orders/{order.no}/reveal/")
    assert (done.status_code, done["Location"]) == (302, f"/orders/{order.no}/#card-keys")
    shown = client.get(f"/orders/{order.no}/")
    assert f"KEY-{order.product_id}-" in shown.content.decode() and shown["Cache-Control"] == "no-store"
    again = client.get(f"/orders/{order.no}/").content.decode()
    assert f"KEY-{order.product_id}-" not in again and "首次查看时间" in again
    assert CardKey.objects.get(order=order).viewed_at is not None


@pytest.mark.parametrize("kind", ["card_key", "direct_topup"])
def test_a_sold_out_product_says_so_and_cannot_be_bought(client, kind):
    buyer = f.buyer(balance=50_00)
    product = f.product(kind=kind, price=10_00, **({"stock": 0} if kind == "direct_topup" else {}))
    client.force_login(buyer)

    listing = client.get("/").content.decode()
    page = client.get(f"/p/{product.pk}/").content.decode()
    refused = client.post(
        f"/orders/buy/{product.pk}/", {"quantity": "1", "accept_terms": "1", "target_account": "uid-1"}
    ).content.decode()

    assert "已售罄" in listing
    assert 'id="sold-out" disabled' in page and "立即购买" not in page
    assert "该商品已售罄" in refused
    assert not Order.objects.exists()


def product_form(**fields):
    return {"name": "测试商品", "description": "", "price_yuan": "10", "max_per_order": "5", **fields}


def test_the_product_form_keeps_only_the_fields_of_the_chosen_kind(client):
    seller = f.seller()
    client.force_login(seller.owner)

    page = client.get("/seller/products/new/").content.decode()
    assert 'data-kinds="custom_service"' in field_row(page, "row-promise")
    assert 'data-kinds="card_key direct_topup"' in field_row(page, "row-face_value_yuan")
    assert "data-kinds" not in field_row(page, "row-price_yuan")

    # Filled under another kind, then switched to card keys: only the card key's fields are kept.
    client.post(
        "/seller/products/new/",
        product_form(kind="card_key", face_value_yuan="10", stock="5", promise="包过", duration_days="30"),
    )
    client.post(
        "/seller/products/new/",
        product_form(
            kind="custom_service", face_value_yuan="-5", duration_days="abc", promise="查重率低于15%"
        ),
    )
    key, service = Product.objects.filter(seller=seller).order_by("pk")
    assert (key.face_value, key.stock, key.promise, key.duration_days) == (10_00, None, "", None)
    assert (service.face_value, service.duration_days, service.promise) == (0, None, "查重率低于15%")


def test_form_errors_sit_next_to_their_field(client):
    seller = f.seller()
    client.force_login(seller.owner)
    form = client.post(
        "/seller/products/new/", product_form(kind="direct_topup", price_yuan="-1")
    ).content.decode()
    assert 'id="error-price_yuan"' in field_row(form, "row-price_yuan")
    assert "error-" not in field_row(form, "row-name")

    buyer = f.buyer(balance=50_00)
    client.force_login(buyer)
    topup = f.product(kind="direct_topup", price=10_00)
    page = client.post(f"/orders/buy/{topup.pk}/", {"quantity": "1", "accept_terms": "1"}).content.decode()
    assert "请填写充值账号" in field_row(page, "row-target_account")
    page = client.post(
        f"/orders/buy/{topup.pk}/", {"quantity": "9", "target_account": "uid-9", "accept_terms": "1"}
    ).content.decode()
    assert "每单最多购买 5 件" in field_row(page, "row-quantity")
    assert 'value="uid-9"' in page  # what the buyer typed is kept
    page = client.post(
        f"/orders/buy/{topup.pk}/", {"quantity": "1", "target_account": "uid-9"}
    ).content.decode()
    assert "请先阅读并勾选同意" in field_row(page, "row-accept_terms")
