"""Back from the cashier, the buyer is told how the payment went, failed or paid."""

import pytest
from django.urls import reverse

from kameng.payments.models import Payment
from tests import factories as f

pytestmark = pytest.mark.django_db


def _start_topup(client, amount="50"):
    client.post(reverse("payments:topup"), {"amount": amount})
    return Payment.objects.latest("pk")


def test_a_failed_sandbox_top_up_returns_to_the_wallet_with_a_message(client):
    client.force_login(f.buyer())
    payment = _start_topup(client)
    page = client.post(f"/sandbox/pay/{payment.out_trade_no}/", {"outcome": "fail"}, follow=True)
    assert page.redirect_chain[-1][0] == reverse("wallet:home")
    assert "支付未成功" in page.content.decode()


def test_a_paid_sandbox_top_up_says_it_was_credited(client):
    client.force_login(f.buyer())
    payment = _start_topup(client)
    page = client.post(f"/sandbox/pay/{payment.out_trade_no}/", {"outcome": "pay"}, follow=True)
    assert "充值成功" in page.content.decode()
