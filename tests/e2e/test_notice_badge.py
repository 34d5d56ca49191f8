"""The unread badge in the top nav follows new notices without a reload (issue 15, item 9): the
page's small poll asks /notices/unread.json and writes the count as text."""

import pytest
from playwright.sync_api import expect

from kameng.accounts.services import notify
from kameng.sentences import Sentence
from tests import factories as f

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_badge_shows_a_new_notice_and_the_centre_marks_it_read(browser, live_server):
    buyer = f.buyer()
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", buyer.username)
    page.fill("#id_password", f.PASSWORD)
    page.click("main button[type=submit]")
    page.goto(f"{live_server.url}/orders/")
    badge = page.locator("#notice-count")
    expect(badge).to_be_hidden()

    notify(buyer, Sentence("卖家已同意退款<b>"), link="/orders/")
    # The poll runs every 20 s and when the tab comes back into view: bring it back.
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")

    expect(badge).to_have_text("1")
    assert badge.get_attribute("title") == "卖家已同意退款<b>"  # as text, never markup
    page.click("#notice-link")
    expect(page.locator("ul.notices")).to_contain_text("卖家已同意退款<b>")
    page.click("ul.notices button[name=go]")
    expect(page).to_have_url(f"{live_server.url}/orders/")
    expect(page.locator("#notice-count")).to_be_hidden()
    assert errors == []
    context.close()
