"""A seller imports a GBK CSV with a 卡号,密码 header in a real browser: upload → masked preview →
confirm → stock page; a buyer then reveals a card number and password, never the header."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests import factories as f

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROWS = [("1000200030004001", "A8K2PQ7M3XZL01"), ("1000200030004002", "B9L3RS8N4YAM02")]
SHOTS = os.environ.get("KAMENG_SCREENSHOTS")  # a directory: also save the pages at 390 and 1280 px


def log_in(browser, live_server, user, width=1280):
    context = browser.new_context(
        locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": width, "height": 900}
    )
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", f.PASSWORD)
    page.click("main button[type=submit]")
    expect(page.locator("header.top")).to_contain_text("退出")
    return page


def fits(page) -> bool:
    """Nothing wider than the screen: cards, not wrapped or scrolling tables."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def shot(page, name):
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{SHOTS}/{name}-{page.viewport_size['width']}.png", full_page=True)


@pytest.mark.parametrize("width", [390, 1280])
def test_upload_preview_confirm_then_a_buyer_reveals_both_columns(live_server, browser, tmp_path, width):
    product = f.product(price=10_00)
    product.name = "骏网一卡通 10元"
    product.save()
    csv = tmp_path / "keys.csv"
    csv.write_bytes(("卡号,密码\r\n" + "".join(f"{a},{b}\r\n" for a, b in ROWS)).encode("gbk"))
    page = log_in(browser, live_server, product.seller.owner, width)

    page.goto(f"{live_server.url}/seller/products/{product.pk}/keys/")
    expect(page.locator("#import-formats")).to_contain_text("卡号,密码")
    assert fits(page)
    shot(page, "import")
    page.set_input_files("#id_file", str(csv))
    page.click("#preview-btn")

    preview = page.locator("#import-preview")
    expect(preview).to_contain_text("1000**********01")
    expect(preview).to_contain_text("A8K2********01")
    expect(page.locator("#count-to-add")).to_have_text("2")
    html = page.content()
    assert not any(value in html for row in ROWS for value in row)
    assert fits(page)
    shot(page, "preview")
    page.click("#confirm-btn")

    expect(page.locator(".msg.success")).to_contain_text("已导入 2 条卡密")
    stock = page.locator(f"#inventory-{product.pk}")
    expect(stock.locator('[data-count="on_sale"]')).to_have_text("2")
    assert fits(page)
    shot(page, "inventory")

    buyer = f.buyer(balance=10_00)
    page = log_in(browser, live_server, buyer, width)
    page.goto(f"{live_server.url}/p/{product.pk}/")
    page.check("#id_accept_terms")  # the refund terms, confirmed at purchase
    page.click("#buy-form button[type=submit]")
    page.click("#reveal-btn")
    page.click("#confirm-reveal")  # revealing ends the no-questions return: asked first
    keys = page.locator("#card-keys")
    expect(keys).to_contain_text("卡号")
    expect(keys).to_contain_text("1000200030004001")
    expect(keys).to_contain_text("A8K2PQ7M3XZL01")
    expect(keys).not_to_contain_text("卡号,密码")
    shot(page, "reveal")
