"""Gateway callbacks through the real notify endpoint, the sandbox's asynchronous notifier, and the tick
that re-sends what we did not acknowledge (ARCHITECTURE "Money and side effects")."""

import json
import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from kameng.accounts.models import Notice
from kameng.ops.tick import tick
from kameng.orders.models import Order, OrderStatus
from kameng.orders.services import (
    OrderError,
    cancel_order,
    expire_pending_orders,
    start_order_gateway_payment,
)
from kameng.payments.models import Payment, PaymentStatus, SandboxTrade
from kameng.payments.services import start_topup
from kameng.wallet.models import Transaction
from kameng.wallet.services import balance_of, buyer_balance, check_ledger, escrow_code
from tests import factories as f
from tests.orders.helpers import gateway_order, pay_at_gateway, signed

pytestmark = pytest.mark.django_db

NOTIFY = "/payments/notify/sandbox/"


def notify(client, body: bytes, signature: str):
    return client.post(NOTIFY, data=body, content_type="application/json", HTTP_X_SIGNATURE=signature)


def _topup(buyer, amount):
    payment, _url = start_topup(user=buyer, amount=amount)
    return payment


def test_a_valid_callback_is_acknowledged_and_credits_the_buyer(client):
    buyer = f.buyer()
    payment = _topup(buyer, 50_00)
    body, signature = pay_at_gateway(payment)

    response = notify(client, body, signature)

    assert response.status_code == 200
    assert response.content == b"success"
    assert buyer_balance(buyer) == 50_00
    assert f.told(buyer, "充值成功")


def test_a_forged_signature_is_refused_logged_and_changes_nothing(client, caplog):
    buyer = f.buyer()
    payment = _topup(buyer, 50_00)
    body, _signature = pay_at_gateway(payment)

    with caplog.at_level(logging.WARNING, logger="kameng.payments.services"):
        response = notify(client, body, "0" * 64)

    assert response.status_code == 400
    assert buyer_balance(buyer) == 0
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.CREATED
    assert any("refused" in r.getMessage() and r.levelno == logging.WARNING for r in caplog.records)


@pytest.mark.parametrize("signature", ["", "签名不对", "é" * 64])
def test_a_missing_or_non_ascii_signature_is_a_clean_refusal(client, signature):
    buyer = f.buyer()
    body, _sig = pay_at_gateway(_topup(buyer, 10_00))

    response = notify(client, body, signature)

    assert response.status_code == 400
    assert buyer_balance(buyer) == 0


@pytest.mark.parametrize("raw", [b"", b"not json", b"[]", b"null", b'{"out_trade_no": "x"}', b"\xff\xfe"])
def test_malformed_bodies_with_a_valid_signature_are_refused(client, raw):
    from kameng.payments.gateway import sign

    response = notify(client, raw, sign(raw))

    assert response.status_code == 400
    assert Transaction.objects.count() == 0


def test_an_unknown_gateway_is_not_found(client):
    body, signature = signed(out_trade_no="P1", trade_no="T1", amount=100, status="SUCCESS")

    assert notify_to(client, "/payments/notify/nosuch/", body, signature).status_code == 404


def notify_to(client, url, body, signature):
    return client.post(url, data=body, content_type="application/json", HTTP_X_SIGNATURE=signature)


def test_a_replayed_callback_is_acknowledged_but_credits_once(client):
    buyer = f.buyer()
    payment = _topup(buyer, 30_00)
    body, signature = pay_at_gateway(payment)

    first = notify(client, body, signature)
    again = notify(client, body, signature)

    assert first.content == again.content == b"success"
    assert buyer_balance(buyer) == 30_00
    payment.refresh_from_db()
    assert payment.callbacks == 2


def test_a_tampered_amount_even_correctly_signed_is_refused_and_credits_nothing(client, caplog):
    buyer = f.buyer()
    payment = _topup(buyer, 30_00)
    body, _signature = pay_at_gateway(payment)
    tampered = json.loads(body)
    tampered["amount"] = 3_000_00
    tampered_body, tampered_sig = signed(**tampered)

    with caplog.at_level(logging.WARNING, logger="kameng.payments.services"):
        response = notify(client, tampered_body, tampered_sig)

    assert response.status_code == 400
    assert b"amount mismatch" in response.content
    assert buyer_balance(buyer) == 0
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.CREATED
    assert any("amount" in r.getMessage() for r in caplog.records)
    # The genuine callback still works afterwards.
    assert notify(client, body, _signature).content == b"success"
    assert buyer_balance(buyer) == 30_00


def test_a_callback_for_an_unknown_trade_is_refused(client):
    body, signature = signed(out_trade_no="P-nobody", trade_no="T1", amount=100, status="SUCCESS")

    response = notify(client, body, signature)

    assert response.status_code == 400
    assert Transaction.objects.count() == 0


def test_a_failed_payment_callback_records_the_failure_and_moves_no_money(client):
    buyer = f.buyer()
    order, payment = gateway_order(buyer, f.product(price=10_00, keys=1))
    body, signature = pay_at_gateway(payment, succeed=False)

    response = notify(client, body, signature)

    assert response.content == b"success"
    payment.refresh_from_db()
    order.refresh_from_db()
    assert payment.status == PaymentStatus.FAILED
    assert order.status == OrderStatus.PENDING
    assert Transaction.objects.filter(reference=order.no).count() == 0


def test_a_gateway_paid_card_key_order_is_delivered_by_its_callback(client):
    buyer = f.buyer()
    order, payment = gateway_order(buyer, f.product(price=10_00, keys=2))
    body, signature = pay_at_gateway(payment)

    assert notify(client, body, signature).content == b"success"

    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED
    assert order.card_keys.count() == 1
    assert balance_of(escrow_code(order.pk)) == 10_00
    assert check_ledger() == []


@pytest.mark.parametrize("closed_by", ["cancel", "expire"])
def test_money_arriving_after_the_order_closed_goes_to_the_balance_and_the_buyer_is_told(client, closed_by):
    buyer = f.buyer()
    product = f.product(price=25_00, keys=1)
    order, payment = gateway_order(buyer, product)
    if closed_by == "cancel":
        cancel_order(order_id=order.pk, buyer=buyer)
    else:
        assert expire_pending_orders(now=timezone.now() + timedelta(hours=1)) == 1
    body, signature = pay_at_gateway(payment)  # the buyer paid in a tab left open

    response = notify(client, body, signature)

    assert response.content == b"success"
    order.refresh_from_db()
    assert order.status in (OrderStatus.CANCELLED, OrderStatus.EXPIRED)
    assert not order.card_keys.exists()  # a closed order is never delivered
    assert buyer_balance(buyer) == 25_00
    assert balance_of(escrow_code(order.pk)) == 0
    payment.refresh_from_db()
    assert payment.credited_to_balance
    notice = Notice.objects.get(user=buyer)
    assert order.no in notice.message and "余额" in notice.message
    # Replayed late callback: still credited once.
    assert notify(client, body, signature).content == b"success"
    assert buyer_balance(buyer) == 25_00
    assert check_ledger() == []


# The worker opens its own database connection: on PostgreSQL it must see committed data.
@pytest.mark.django_db(transaction=True)
def test_the_sandbox_notifier_delivers_the_callback_through_the_task_worker(
    drain_tasks, django_capture_on_commit_callbacks
):
    buyer = f.buyer()
    order, payment = gateway_order(buyer, f.product(price=10_00, keys=1))

    with django_capture_on_commit_callbacks(execute=True):
        pay_at_gateway(payment)
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING  # nothing happens until the notifier runs
    drain_tasks()

    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED
    trade = SandboxTrade.objects.get(out_trade_no=payment.out_trade_no)
    assert trade.acknowledged and trade.callbacks_sent == 1


@pytest.mark.django_db(transaction=True)
def test_the_tick_resends_callbacks_we_never_acknowledged(drain_tasks, monkeypatch):
    from django.db import OperationalError

    from kameng.payments import services

    buyer = f.buyer()
    payment = _topup(buyer, 20_00)
    genuine = services.apply_gateway_result

    def down(**kwargs):
        raise OperationalError("server restarting")

    monkeypatch.setattr(services, "apply_gateway_result", down)
    pay_at_gateway(payment)  # the gateway notifies at once, but our side is down
    drain_tasks()
    assert buyer_balance(buyer) == 0
    assert not SandboxTrade.objects.get(out_trade_no=payment.out_trade_no).acknowledged
    monkeypatch.setattr(services, "apply_gateway_result", genuine)

    assert tick()["callbacks"] == 1
    drain_tasks()

    assert buyer_balance(buyer) == 20_00
    assert SandboxTrade.objects.get(out_trade_no=payment.out_trade_no).acknowledged
    # Once acknowledged, the tick leaves it alone and nothing is credited twice.
    assert tick()["callbacks"] == 0
    drain_tasks()
    assert buyer_balance(buyer) == 20_00
    assert Payment.objects.get(pk=payment.pk).callbacks == 1


def test_a_tab_left_open_cannot_start_paying_an_order_cancelled_in_another_tab():
    buyer = f.buyer()
    order, _first = gateway_order(buyer, f.product(price=10_00, keys=1))
    seen_in_old_tab = Order.objects.get(pk=order.pk)
    cancel_order(order_id=order.pk, buyer=buyer)

    with pytest.raises(OrderError, match="无需支付"):
        start_order_gateway_payment(order=seen_in_old_tab, user=buyer)

    assert order.payments.count() == 1
    assert not SandboxTrade.objects.exclude(out_trade_no=_first.out_trade_no).exists()


def test_a_second_payment_landing_after_the_order_was_refunded_goes_to_the_balance(client):
    from kameng.refunds.services import submit_refund

    buyer = f.buyer()
    order, first = gateway_order(buyer, f.product(price=30_00, keys=1))
    second = start_order_gateway_payment(order=order, user=buyer)[0]  # a second tab
    assert notify(client, *pay_at_gateway(first)).content == b"success"
    order.refresh_from_db()
    submit_refund(order=order, actor=buyer, reason="other", demand="full_refund")  # never revealed: refunded
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED

    assert notify(client, *pay_at_gateway(second)).content == b"success"

    assert buyer_balance(buyer) == 60_00  # the refund and the late second payment
    assert balance_of(escrow_code(order.pk)) == 0
    assert check_ledger() == []


def test_a_fractional_amount_in_a_signed_callback_is_refused_not_rounded(client):
    buyer = f.buyer()
    payment = _topup(buyer, 10_00)
    get_gateway_pay = pay_at_gateway(payment)  # the real trade exists and is paid
    data = json.loads(get_gateway_pay[0])

    response = notify(client, *signed(**{**data, "amount": 1000.9}))

    assert response.status_code == 400
    assert buyer_balance(buyer) == 0
