"""Password guessing is throttled on both doors that take a password: the login page and the API
token endpoint. A locked pair (username, address) is told in Chinese when to try again."""

from datetime import timedelta

import pytest
from django.utils import timezone
from freezegun import freeze_time

from tests import factories as f

pytestmark = pytest.mark.django_db

LIMIT = 5


def _login(client, username, password):
    return client.post("/accounts/login/", {"username": username, "password": password})


def _token(client, username, password, address="127.0.0.1"):
    return client.post(
        "/api/auth/token",
        {"username": username, "password": password},
        content_type="application/json",
        REMOTE_ADDR=address,
    )


def test_the_login_page_locks_a_username_after_five_wrong_passwords_and_says_for_how_long(client):
    buyer = f.buyer()
    for _ in range(LIMIT - 1):
        assert _login(client, buyer.username, "wrong-password").status_code == 200  # the form again
    assert _login(client, buyer.username, "wrong-password").status_code == 429  # the fifth

    locked = _login(client, buyer.username, f.PASSWORD)  # even the right password now

    assert locked.status_code == 429
    page = locked.content.decode()
    assert "15 分钟后再试" in page
    assert "不会向您索要密码或验证码" in page
    assert "_auth_user_id" not in client.session


def test_the_token_endpoint_locks_too_and_answers_json(client):
    buyer = f.buyer()
    for _ in range(LIMIT - 1):
        assert _token(client, buyer.username, "wrong-password").status_code == 401
    assert _token(client, buyer.username, "wrong-password").status_code == 429

    locked = _token(client, buyer.username, f.PASSWORD)

    assert locked.status_code == 429
    assert "分钟后再试" in locked.json()["detail"]


def test_a_lock_is_for_that_username_from_that_address_and_ends_after_the_cool_off(client):
    buyer, other = f.buyer(), f.buyer()
    for _ in range(LIMIT):
        _token(client, buyer.username, "wrong-password")

    assert _token(client, other.username, f.PASSWORD).status_code == 200  # other accounts work
    assert (
        _token(client, buyer.username, f.PASSWORD, address="10.0.0.8").status_code == 200
    )  # the owner elsewhere
    with freeze_time(timezone.now() + timedelta(minutes=16)):
        assert _token(client, buyer.username, f.PASSWORD).status_code == 200


def test_a_successful_login_starts_the_count_again(client):
    buyer = f.buyer()
    for _ in range(LIMIT - 1):
        _token(client, buyer.username, "wrong-password")
    assert _token(client, buyer.username, f.PASSWORD).status_code == 200

    for _ in range(LIMIT - 1):
        assert _token(client, buyer.username, "wrong-password").status_code == 401
    assert _token(client, buyer.username, f.PASSWORD).status_code == 200


ADDRESS_LIMIT = 20


def _spray(door, client, address):
    """30 wrong passwords over 10 usernames from one address: 3 per name, under the per-name limit."""
    users = [f.buyer() for _ in range(10)]
    answers = [door(client, u.username, "wrong-password", address) for _ in range(3) for u in users]
    return users, [a.status_code for a in answers]


def _login_from(client, username, password, address):
    return client.post("/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=address)


@pytest.mark.parametrize("door", [_login_from, _token], ids=["login page", "api token"])
def test_password_spraying_from_one_address_is_locked_out(client, door):
    users, codes = _spray(door, client, "203.0.113.7")

    assert 429 in codes
    assert codes.index(429) == ADDRESS_LIMIT - 1  # the 20th wrong password from that address
    assert door(client, users[0].username, f.PASSWORD, "203.0.113.7").status_code == 429
    # The owners themselves, from their own addresses, are not locked out by the sprayer.
    assert _token(client, users[0].username, f.PASSWORD, address="198.51.100.1").status_code == 200


def test_the_address_limit_comes_from_the_environment(client, settings):
    settings.KAMENG_LOGIN_ADDRESS_FAILURES = 8
    users = [f.buyer() for _ in range(4)]
    codes = [_token(client, u.username, "wrong", "203.0.113.9").status_code for _ in range(2) for u in users]
    assert codes == [401] * 7 + [429]


def test_a_successful_login_does_not_wipe_the_address_count(client):
    sprayer = f.buyer()
    users = [f.buyer() for _ in range(9)]
    for u in users:
        _token(client, u.username, "wrong", "203.0.113.8")
        _token(client, u.username, "wrong", "203.0.113.8")  # 18 from that address
    assert _token(client, sprayer.username, f.PASSWORD, "203.0.113.8").status_code == 200

    assert _token(client, users[0].username, "wrong", "203.0.113.8").status_code == 401  # the 19th
    assert _token(client, users[1].username, "wrong", "203.0.113.8").status_code == 429  # the 20th


def test_the_lockout_page_points_to_no_customer_service_that_does_not_exist(client):
    buyer = f.buyer()
    for _ in range(LIMIT):
        _login(client, buyer.username, "wrong-password")
    page = _login(client, buyer.username, "wrong-password").content.decode()
    assert "官方客服找回" not in page
