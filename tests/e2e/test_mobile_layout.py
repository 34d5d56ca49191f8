"""At a phone's width (390 px) the lists read as cards: nothing runs off the side of the screen, an
order number stays on one line; a case page's and an order page's actions sit in a bar fixed at the
bottom, as on Taobao's 售后 pages. Checked by element geometry in a real browser; screenshots of
each page at 390 and 1280 px go to the test's folder."""

import pytest
from playwright.sync_api import expect

from kameng.accounts.models import User
from kameng.ops.demo import PASSWORD
from kameng.orders.models import Order
from kameng.refunds.models import RefundCase

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture
def demo(db):
    from kameng.ops.demo import load_demo

    load_demo()


def log_in(browser, live_server, username, viewport):
    context = browser.new_context(viewport=viewport, locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    expect(page.locator("header.top")).to_contain_text("退出")
    return page


OVERFLOWING = """() => {
  const width = document.documentElement.clientWidth;
  const out = [];
  for (const el of document.querySelectorAll("main *")) {
    const r = el.getBoundingClientRect();
    if (r.width && (r.right > width + 1 || r.left < -1)) out.push(el.tagName + "." + el.className + " " + Math.round(r.left) + ".." + Math.round(r.right));
  }
  return {out: out.slice(0, 10), scroll: document.documentElement.scrollWidth, width};
}"""


def assert_fits(page):
    result = page.evaluate(OVERFLOWING)
    assert result["out"] == [] and result["scroll"] <= result["width"], result


def assert_one_line(locator):
    """Each element's box is about one line high: no order number wrapped over lines."""
    for box, line in locator.evaluate_all(
        "els => els.map(e => [e.getBoundingClientRect().height, parseFloat(getComputedStyle(e).lineHeight)])"
    ):
        assert box <= line * 1.3, (box, line)


def assert_action_bar(page):
    bar = page.locator(".action-bar")
    expect(bar).to_be_visible()
    assert bar.evaluate("e => getComputedStyle(e).position") == "fixed"
    box = bar.bounding_box()
    viewport = page.viewport_size
    assert abs(box["y"] + box["height"] - viewport["height"]) <= 1  # sits on the bottom edge
    assert box["x"] <= 0.5 and box["width"] >= viewport["width"] - 1
    page.mouse.wheel(0, 400)  # and stays there while the page scrolls
    box = bar.bounding_box()
    assert abs(box["y"] + box["height"] - viewport["height"]) <= 1


def shoot(page, tmp_path, name):
    page.screenshot(path=str(tmp_path / f"{name}-{page.viewport_size['width']}.png"), full_page=True)


def test_the_buyer_lists_fit_a_phone_and_order_numbers_stay_on_one_line(browser, live_server, demo, tmp_path):
    page = log_in(browser, live_server, "zhangsan", PHONE)
    page.goto(f"{live_server.url}/orders/")
    assert_fits(page)
    assert page.locator("#my-orders .order-no").count() >= 5
    assert_one_line(page.locator("#my-orders .order-no"))
    shoot(page, tmp_path, "orders")

    page.goto(f"{live_server.url}/wallet/")
    assert_fits(page)
    assert page.locator("#wallet-history .kind").count() >= 1
    assert_one_line(page.locator("#wallet-history .kind"))
    shoot(page, tmp_path, "wallet")
    page.context.close()


def test_the_staff_queue_and_seller_lists_fit_a_phone(browser, live_server, demo, tmp_path):
    page = log_in(browser, live_server, "agent1", PHONE)
    page.goto(f"{live_server.url}/refunds/staff/")
    assert_fits(page)
    assert_one_line(page.locator("#queue .order-no"))
    shoot(page, tmp_path, "staff-queue")
    page.context.close()

    page = log_in(browser, live_server, "seller_study", PHONE)
    page.goto(f"{live_server.url}/refunds/seller/")
    assert_fits(page)
    assert_one_line(page.locator("#seller-cases .order-no"))
    page.goto(f"{live_server.url}/seller/")
    assert_fits(page)
    assert_one_line(page.locator("#shop-orders .order-no"))
    page.context.close()


def test_case_and_order_actions_sit_in_a_bottom_bar_on_a_phone(browser, live_server, demo, tmp_path):
    wang = User.objects.get(username="wangwu")
    case = RefundCase.objects.filter(buyer=wang, stage="awaiting_seller").first()
    pending = Order.objects.filter(buyer__username="zhangsan", status="pending").first()
    order = pending or Order.objects.filter(buyer__username="zhangsan", status="delivered").first()

    page = log_in(browser, live_server, "wangwu", PHONE)
    page.goto(f"{live_server.url}/refunds/{case.pk}/")
    assert_fits(page)
    assert_action_bar(page)
    expect(page.locator(".action-bar #cancel-case")).to_be_visible()
    shoot(page, tmp_path, "case")
    page.context.close()

    page = log_in(browser, live_server, "zhangsan", PHONE)
    page.goto(f"{live_server.url}/orders/{order.no}/")
    assert_fits(page)
    assert_action_bar(page)
    shoot(page, tmp_path, "order")
    page.context.close()

    # On a wide screen the actions stay in the page's flow.
    page = log_in(browser, live_server, "wangwu", DESKTOP)
    page.goto(f"{live_server.url}/refunds/{case.pk}/")
    assert page.locator(".action-bar").evaluate("e => getComputedStyle(e).position") == "static"
    shoot(page, tmp_path, "case")
    page.context.close()
