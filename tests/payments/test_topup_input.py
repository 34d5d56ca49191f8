"""Top-up amounts typed by people and sent by scripts: anything but a sane amount of money is refused
with a message, nothing is created at the gateway, and no input makes the page fail."""

import pytest

from kameng.payments.models import Payment, SandboxTrade
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def buyer(client):
    user = f.buyer()
    client.force_login(user)
    return user


@pytest.mark.parametrize(
    ("amount", "cents"),
    [("50", 50_00), ("49.90", 49_90), (" 1 ", 1_00), ("5000", 5000_00), ("0.5e2", 50_00), ("1.000", 1_00)],
)
def test_a_sane_amount_goes_to_the_cashier(client, buyer, amount, cents):
    response = client.post("/wallet/topup/", {"amount": amount})

    assert response.status_code == 302
    payment = Payment.objects.get(user=buyer)
    assert response["Location"] == f"/sandbox/pay/{payment.out_trade_no}/"
    assert payment.amount == cents


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("", "请输入正确的金额"),
        ("abc", "请输入正确的金额"),
        ("50元", "请输入正确的金额"),
        ("NaN", "请输入正确的金额"),
        ("Infinity", "请输入正确的金额"),
        ("-Infinity", "请输入正确的金额"),
        ("1e999999999", "请输入正确的金额"),
        ("49.999", "请输入正确的金额"),
        ("0", "充值金额至少 1 元"),
        ("0.99", "充值金额至少 1 元"),
        ("-50", "充值金额至少 1 元"),
        ("5000.01", "单次充值最多 5000 元"),
        ("99999999999999999999", "单次充值最多 5000 元"),
    ],
)
def test_a_bad_amount_on_the_page_is_refused_with_a_message(client, buyer, amount, message):
    response = client.post("/wallet/topup/", {"amount": amount}, follow=True)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Payment.objects.exists()
    assert not SandboxTrade.objects.exists()


@pytest.mark.parametrize("amount", [5000, 1_00, 5000_00])
def test_the_api_accepts_an_integer_amount_in_cents(client, buyer, amount):
    response = client.post("/api/wallet/topups", {"amount": amount}, content_type="application/json")

    assert response.status_code == 200
    assert Payment.objects.get(out_trade_no=response.json()["out_trade_no"]).amount == amount


@pytest.mark.parametrize("amount", [True, False, "100", 100.5, None, [100], {"v": 100}])
def test_the_api_refuses_anything_but_an_integer(client, buyer, amount):
    response = client.post("/api/wallet/topups", {"amount": amount}, content_type="application/json")

    assert response.status_code == 422
    assert response.json()["detail"] == "请求参数有误"
    assert not Payment.objects.exists()


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        (0, "至少 1 元"),
        (-100, "至少 1 元"),
        (99, "至少 1 元"),
        (5000_01, "最多 5000 元"),
        (10**30, "最多 5000 元"),
    ],
)
def test_the_api_refuses_amounts_out_of_range_in_chinese(client, buyer, amount, message):
    response = client.post("/api/wallet/topups", {"amount": amount}, content_type="application/json")

    # The schema states the range (422); the service enforces it too (400) for any other caller.
    detail = response.json()["detail"]
    assert (response.status_code, detail) == (422, "请求参数有误") or (
        response.status_code == 400 and message in detail
    )
    assert not Payment.objects.exists()
