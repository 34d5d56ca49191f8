"""Every staff decision that pays shows the amount and where it goes before it pays (issue 14,
item 8), in the browser: claim, choose, see the confirmation, pay; nothing moves before the confirm."""

import pytest
from playwright.sync_api import expect

from kameng.refunds.models import RefundCase, Stage
from kameng.wallet.services import buyer_balance
from tests import factories as f
from tests.refunds.helpers import agent
from tests.refunds.test_flows import in_review

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_agent_sees_the_amount_and_destination_before_the_refund_is_paid(browser, live_server):
    buyer, _seller, _order, case = in_review(price=100_00)
    paid_before = buyer_balance(buyer)
    who = agent()
    context = browser.new_context(
        locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 390, "height": 844}
    )
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", who.username)
    page.fill("#id_password", f.PASSWORD)
    page.click("main button[type=submit]")
    page.goto(f"{live_server.url}/refunds/staff/{case.pk}/")

    expect(page.locator("#claim-first")).to_be_visible()  # deciding waits for the claim
    page.click("#claim")
    page.check("input[name=decision][value=approve]")
    page.fill("#decide-note", "证据充分，同意退款")
    page.click("#decide-submit")

    expect(page.locator("#confirm-amount")).to_have_text("¥100.00")
    expect(page.locator("#confirm-destination")).to_contain_text("余额")
    assert RefundCase.objects.get(pk=case.pk).stage == Stage.PLATFORM_REVIEW  # nothing paid yet
    assert buyer_balance(buyer) == paid_before
    page.click("#confirm-pay")

    page.wait_for_url(f"**/refunds/staff/{case.pk}/")
    assert RefundCase.objects.get(pk=case.pk).stage == Stage.REFUNDED
    assert buyer_balance(buyer) == paid_before + 100_00
    context.close()
