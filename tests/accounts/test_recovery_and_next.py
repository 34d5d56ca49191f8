"""A person who logs in or registers from a page gets back to that page; a person who forgot or
wants to change a password can do it themselves; a locked-out person is told how to recover."""

import re

import pytest
from django.core import mail

from tests import factories as f

pytestmark = pytest.mark.django_db


def test_login_keeps_next_through_a_failed_attempt_and_then_goes_there(client):
    buyer = f.buyer()
    page = client.get("/accounts/login/?next=/wallet/")
    assert 'name="next" value="/wallet/"' in page.content.decode()

    failed = client.post(
        "/accounts/login/", {"username": buyer.username, "password": "nope", "next": "/wallet/"}
    )
    assert failed.status_code == 200
    assert 'name="next" value="/wallet/"' in failed.content.decode()

    ok = client.post(
        "/accounts/login/", {"username": buyer.username, "password": f.PASSWORD, "next": "/wallet/"}
    )
    assert ok.status_code == 302 and ok["Location"] == "/wallet/"


def test_login_refuses_a_next_that_leaves_the_site(client):
    buyer = f.buyer()
    ok = client.post(
        "/accounts/login/",
        {"username": buyer.username, "password": f.PASSWORD, "next": "https://evil.example/"},
    )
    assert ok.status_code == 302 and ok["Location"] == "/"


def test_the_login_page_links_to_register_and_reset_keeping_next(client):
    page = client.get("/accounts/login/?next=/wallet/").content.decode()
    assert "/accounts/register/?next=/wallet/" in page
    assert "/accounts/password/reset/" in page


def test_register_keeps_next_through_a_failed_attempt_and_then_goes_there(client):
    page = client.get("/accounts/register/?next=/wallet/").content.decode()
    assert 'name="next" value="/wallet/"' in page
    bad = client.post(
        "/accounts/register/",
        {"username": "newbie", "password1": "Long-enough-1", "password2": "different", "next": "/wallet/"},
    )
    assert bad.status_code == 200 and 'name="next" value="/wallet/"' in bad.content.decode()

    ok = client.post(
        "/accounts/register/",
        {
            "username": "newbie",
            "password1": "Long-enough-1",
            "password2": "Long-enough-1",
            "next": "/wallet/",
        },
    )
    assert ok.status_code == 302 and ok["Location"] == "/wallet/"


def test_register_refuses_a_next_that_leaves_the_site(client):
    ok = client.post(
        "/accounts/register/",
        {
            "username": "newbie",
            "password1": "Long-enough-1",
            "password2": "Long-enough-1",
            "next": "//evil.example/x",
        },
    )
    assert ok.status_code == 302 and ok["Location"] == "/"


def test_a_logged_in_user_changes_their_password(client):
    buyer = f.buyer()
    client.force_login(buyer)
    assert client.get("/accounts/password/change/").status_code == 200
    done = client.post(
        "/accounts/password/change/",
        {
            "old_password": f.PASSWORD,
            "new_password1": "Brand-new-pass-9",
            "new_password2": "Brand-new-pass-9",
        },
        follow=True,
    )
    assert done.status_code == 200 and "密码已修改" in done.content.decode()
    buyer.refresh_from_db()
    assert buyer.check_password("Brand-new-pass-9")


def test_password_change_needs_a_login(client):
    page = client.get("/accounts/password/change/")
    assert page.status_code == 302 and page["Location"].startswith("/accounts/login/?next=")


def test_a_forgotten_password_is_reset_through_a_mailed_link(client):
    buyer = f.buyer()
    buyer.email = "buyer@example.com"
    buyer.save()

    sent = client.post("/accounts/password/reset/", {"email": "buyer@example.com"}, follow=True)
    assert sent.status_code == 200 and "邮件" in sent.content.decode()
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["buyer@example.com"]
    link = re.search(r"http://\S+/accounts/password/reset/\S+/", mail.outbox[0].body).group(0)

    form = client.get(link, follow=True)
    assert form.status_code == 200
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "Brand-new-pass-9", "new_password2": "Brand-new-pass-9"},
        follow=True,
    )
    assert "密码已重置" in done.content.decode()
    buyer.refresh_from_db()
    assert buyer.check_password("Brand-new-pass-9")


def test_register_takes_an_optional_email_for_recovery(client):
    client.post(
        "/accounts/register/",
        {
            "username": "withmail",
            "email": "w@example.com",
            "password1": "Long-enough-1",
            "password2": "Long-enough-1",
        },
    )
    from kameng.accounts.models import User

    assert User.objects.get(username="withmail").email == "w@example.com"


def test_the_lockout_page_says_until_when_and_offers_a_reset_by_email(client):
    buyer = f.buyer()
    for _ in range(5):
        client.post("/accounts/login/", {"username": buyer.username, "password": "wrong"})
    locked = client.post("/accounts/login/", {"username": buyer.username, "password": f.PASSWORD})
    page = locked.content.decode()
    assert locked.status_code == 429
    assert re.search(r"\d\d:\d\d", page)  # until when
    assert "/accounts/password/reset/" in page
    assert "官方客服" not in page


def test_a_password_reset_lifts_the_lock_on_that_account(client):
    buyer = f.buyer()
    buyer.email = "buyer@example.com"
    buyer.save()
    for _ in range(5):
        client.post("/accounts/login/", {"username": buyer.username, "password": "wrong"})
    client.post("/accounts/password/reset/", {"email": "buyer@example.com"})
    link = re.search(r"http://\S+/accounts/password/reset/\S+/", mail.outbox[0].body).group(0)
    form = client.get(link, follow=True)
    client.post(
        form.redirect_chain[-1][0], {"new_password1": "Brand-new-pass-9", "new_password2": "Brand-new-pass-9"}
    )

    ok = client.post("/accounts/login/", {"username": buyer.username, "password": "Brand-new-pass-9"})
    assert ok.status_code == 302


def test_favicon_answers(client):
    assert client.get("/favicon.ico", follow=True).status_code == 200
    assert 'rel="icon"' in client.get("/").content.decode()


def test_the_lockout_page_offers_the_reset_after_another_wrong_password_too(client):
    buyer = f.buyer()
    for _ in range(6):
        locked = client.post("/accounts/login/", {"username": buyer.username, "password": "wrong"})
    assert locked.status_code == 429
    assert "/accounts/password/reset/" in locked.content.decode()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_the_lockout_page_offers_the_reset_when_served_asynchronously(async_client):
    """Under ASGI (uvicorn) axes' middleware hands the lockout page no credentials: the username
    comes from the form then."""
    from asgiref.sync import sync_to_async

    buyer = await sync_to_async(f.buyer)()
    for _ in range(6):
        locked = await async_client.post(
            "/accounts/login/", {"username": buyer.username, "password": "wrong"}
        )
    assert locked.status_code == 429
    assert "/accounts/password/reset/" in locked.content.decode()
