"""Under the Content-Security-Policy, the key pages load with no violation in the console and what
used inline script still works: the refund form's live checklist, the 撤销 confirmation, the staff
queue's stage filter, the Django admin and the API docs (swagger-ui from our own static files)."""

import re

import pytest
from django.test import Client
from playwright.sync_api import expect

from kameng.accounts.models import Role
from kameng.refunds.models import RefundCase
from tests import factories as f
from tests.refunds.test_pages import custom_service_order, submit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def watched_page(browser, violations):
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    page.on(
        "console",
        lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.on("pageerror", lambda e: violations.append(f"page error: {e}"))
    return page


def log_in(page, live_server, user):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", f.PASSWORD)
    page.click("main button[type=submit]")
    expect(page.locator("header.top")).to_contain_text("退出")


def test_buyer_pages_run_under_the_policy(browser, live_server):
    violations: list[str] = []
    buyer = f.buyer()
    order = custom_service_order(buyer)
    product = f.product(keys=1)
    page = watched_page(browser, violations)

    home = page.goto(live_server.url + "/")
    assert "script-src 'self'" in home.headers["content-security-policy"]
    log_in(page, live_server, buyer)
    page.goto(f"{live_server.url}/p/{product.pk}/")
    expect(page.locator("#buy-form")).to_be_visible()

    # The refund form re-renders its checklist when the reason changes (was an inline script).
    page.goto(f"{live_server.url}/refunds/new/{order.no}/")
    expect(page.locator("#preview-btn")).to_be_hidden()
    page.select_option("#id_reason", "not_received")
    page.wait_for_url(re.compile(r"reason=not_received"))

    # Withdrawing asks first (was an inline onsubmit handler): dismissing keeps the case open.
    client = Client()
    client.force_login(buyer)
    submit(client, order)
    case = RefundCase.objects.get(order=order)
    page.goto(f"{live_server.url}/refunds/{case.pk}/")
    page.once("dialog", lambda d: d.dismiss())
    page.click("#cancel-case")
    expect(page.locator("#cancel-case")).to_be_visible()
    case.refresh_from_db()
    assert case.stage != "cancelled"
    page.once("dialog", lambda d: d.accept())
    page.click("#cancel-case")
    page.wait_for_load_state()
    expect(page.locator("#cancel-case")).to_have_count(0)
    case.refresh_from_db()
    assert case.stage == "cancelled"

    assert violations == []


def test_staff_admin_and_docs_pages_run_under_the_policy(browser, live_server):
    violations: list[str] = []
    agent = f.staff(Role.AGENT)
    admin = f.buyer()
    admin.is_staff = admin.is_superuser = True
    admin.save()
    page = watched_page(browser, violations)
    log_in(page, live_server, agent)

    # The stage filter submits itself on change (was an inline onchange handler).
    page.goto(f"{live_server.url}/refunds/staff/")
    page.select_option("#stage-filter", "platform_review")
    page.wait_for_url(re.compile(r"stage=platform_review"))

    page.goto(f"{live_server.url}/api/docs")
    # The bundle is 1.5 MB of script: on a loaded machine it needs more than the default 5 s.
    expect(page.locator(".swagger-ui .info")).to_be_visible(timeout=20_000)

    admin_page = watched_page(browser, violations)
    admin_page.goto(f"{live_server.url}/admin/login/")
    admin_page.fill("#id_username", admin.username)
    admin_page.fill("#id_password", f.PASSWORD)
    admin_page.click("input[type=submit]")
    expect(admin_page.locator("#site-name")).to_be_visible()
    admin_page.goto(f"{live_server.url}/admin/accounts/user/add/")
    expect(admin_page.locator("#id_username")).to_be_visible()

    assert violations == []
