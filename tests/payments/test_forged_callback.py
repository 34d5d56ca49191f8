"""A correctly signed callback is believed only as far as the gateway's own answer to `query` goes:
the default sandbox secret is public, so a signature alone must never move money (issue 14, item 1)."""

import logging

import pytest

from kameng.payments.models import Payment, PaymentStatus
from kameng.payments.services import start_topup
from kameng.wallet.models import Transaction
from kameng.wallet.services import buyer_balance, check_ledger
from tests import factories as f
from tests.orders.helpers import gateway_order, pay_at_gateway, signed

pytestmark = pytest.mark.django_db

NOTIFY = "/payments/notify/sandbox/"


def notify(client, body: bytes, signature: str):
    return client.post(NOTIFY, data=body, content_type="application/json", HTTP_X_SIGNATURE=signature)


def test_a_signed_callback_for_a_trade_still_waiting_credits_nothing(client, caplog):
    buyer = f.buyer()
    payment, _url = start_topup(user=buyer, amount=5_000_00)  # the sandbox trade is WAITING
    forged = signed(out_trade_no=payment.out_trade_no, trade_no="T-forged", amount=5_000_00, status="SUCCESS")

    with caplog.at_level(logging.WARNING, logger="kameng.payments.services"):
        response = notify(client, *forged)

    assert response.status_code == 400
    assert response.content != b"success"
    assert buyer_balance(buyer) == 0
    assert Transaction.objects.count() == 0
    assert check_ledger() == []
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.CREATED
    refusals = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert refusals and payment.out_trade_no in refusals[0]
    assert forged[1] not in " ".join(refusals)  # the signature is never logged


def test_a_signed_callback_for_an_unpaid_order_does_not_pay_it(client):
    buyer = f.buyer()
    order, payment = gateway_order(buyer, f.product(price=10_00, keys=1))
    forged = signed(out_trade_no=payment.out_trade_no, trade_no="T-forged", amount=10_00, status="SUCCESS")

    assert notify(client, *forged).status_code == 400

    order.refresh_from_db()
    assert order.status == "pending"
    assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.CREATED
    assert check_ledger() == []


def test_a_callback_naming_another_trade_than_the_one_paid_is_refused(client):
    buyer = f.buyer()
    payment, _url = start_topup(user=buyer, amount=20_00)
    pay_at_gateway(payment)  # really paid, under the gateway's own trade number
    forged = signed(out_trade_no=payment.out_trade_no, trade_no="T-other", amount=20_00, status="SUCCESS")

    assert notify(client, *forged).status_code == 400
    assert buyer_balance(buyer) == 0


def test_a_real_paid_trade_credits_once_and_duplicates_are_acknowledged(client):
    buyer = f.buyer()
    payment, _url = start_topup(user=buyer, amount=50_00)
    genuine = pay_at_gateway(payment)

    answers = [notify(client, *genuine).content for _ in range(3)]

    assert answers == [b"success"] * 3
    assert buyer_balance(buyer) == 50_00
    assert Transaction.objects.filter(kind="topup").count() == 1
    assert check_ledger() == []
