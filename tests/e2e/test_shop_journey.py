"""A new buyer, in a real browser: register → top up → buy a card key → reveal it → see it in my orders."""

import re

import pytest
from playwright.sync_api import expect

from kameng.inventory.models import CardKey
from tests import factories as f

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_register_topup_buy_reveal_and_find_the_order(live_server, page):
    product = f.product(price=30_00, keys=2, of=f.seller(name="星辰游戏"))
    product.name = "京东E卡 30元"
    product.save()

    page.goto(live_server.url + "/accounts/register/")
    page.fill("#id_username", "xiaoming")
    page.fill("#id_password1", "s3cure-Pass-2026")
    page.fill("#id_password2", "s3cure-Pass-2026")
    page.click("button[type=submit]")
    expect(page.locator(".msg.success")).to_contain_text("注册成功")

    page.goto(live_server.url + "/wallet/")
    expect(page.locator("#balance")).to_have_text("¥0.00")
    page.fill("#id_amount", "50")
    page.click("#topup-btn")
    expect(page.locator("#cashier")).to_contain_text("¥50.00")
    page.click("#sandbox-pay")
    expect(page.locator("#balance")).to_have_text("¥50.00")

    page.goto(live_server.url + "/")
    page.click("text=京东E卡 30元")
    page.check("#id_accept_terms")  # the refund terms, confirmed at purchase
    page.click("#buy-form button[type=submit]")
    expect(page.locator("#order-status")).to_have_text("已发货")
    expect(page.locator("#card-keys")).to_contain_text("卡密尚未查看")

    page.click("#reveal-btn")
    page.click("#confirm-reveal")  # revealing ends the no-questions return: asked first
    secret = page.locator(".secret").first.inner_text()
    assert re.fullmatch(rf"KEY-{product.pk}-\d{{5}}", secret)
    key = CardKey.objects.get(order__buyer__username="xiaoming")
    assert key.viewed_at is not None

    page.goto(live_server.url + "/orders/")
    row = page.locator("#my-orders tbody tr").first
    expect(row).to_contain_text("京东E卡 30元")
    expect(row).to_contain_text("¥30.00")
    row.locator("a").click()
    expect(page.locator("#card-keys")).to_contain_text("首次查看时间")
    page.goto(live_server.url + "/wallet/")
    expect(page.locator("#balance")).to_have_text("¥20.00")
