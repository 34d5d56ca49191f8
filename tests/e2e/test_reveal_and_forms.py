"""Issue 14, item 12 (part), in a real browser: revealing a key asks first, ends on the order page
with the key shown once (a reload answers the page, never 405); the seller's product form shows
only the fields of the chosen kind (static script: the CSP forbids inline script)."""

import pytest
from playwright.sync_api import expect

from kameng.orders.services import place_order
from tests import factories as f

from .test_key_import import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_reveal_asks_then_lands_on_the_order_and_a_reload_hides_the_key(live_server, browser):
    buyer = f.buyer(balance=10_00)
    order = place_order(buyer=buyer, product=f.product(price=10_00, keys=1))
    page = log_in(browser, live_server, buyer)
    page.goto(f"{live_server.url}/orders/{order.no}/")

    page.click("#reveal-btn")
    expect(page.locator("#reveal-warning")).to_contain_text("查看后即视为已拆封")
    page.click("#confirm-reveal")

    expect(page.locator(".secret")).to_contain_text(f"KEY-{order.product_id}-")
    assert page.url == f"{live_server.url}/orders/{order.no}/#card-keys"
    response = page.reload()
    assert response.status == 200
    expect(page.locator(".secret")).to_have_count(0)
    expect(page.locator("#card-keys")).to_contain_text("首次查看时间")


def test_the_product_form_shows_only_the_fields_of_the_chosen_kind(live_server, browser):
    seller = f.seller()
    page = log_in(browser, live_server, seller.owner)
    page.goto(f"{live_server.url}/seller/products/new/")

    page.select_option("#id_kind", "custom_service")
    expect(page.locator("#row-promise")).to_be_visible()
    expect(page.locator("#row-face_value_yuan")).to_be_hidden()
    expect(page.locator("#row-duration_days")).to_be_hidden()
    page.select_option("#id_kind", "card_key")
    expect(page.locator("#row-face_value_yuan")).to_be_visible()
    expect(page.locator("#row-stock")).to_be_hidden()
    expect(page.locator("#row-promise")).to_be_hidden()
