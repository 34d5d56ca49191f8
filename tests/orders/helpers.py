"""Shared steps for order, wallet and catalog stories: gateway payments and concurrent callers."""

import json
import threading

from django.db import connection

from kameng.orders.services import place_order, start_order_gateway_payment
from kameng.payments.gateway import get_gateway, sign
from kameng.payments.models import Payment
from kameng.payments.services import receive_callback


def gateway_order(buyer, product, **kwargs):
    """A pending order the buyer means to pay online, and its first payment attempt."""
    order = place_order(buyer=buyer, product=product, pay_method="gateway", **kwargs)
    payment, _url = start_order_gateway_payment(order=order, user=buyer)
    return order, payment


def another_payment(order, buyer) -> Payment:
    payment, _url = start_order_gateway_payment(order=order, user=buyer)
    return payment


def pay_at_gateway(payment: Payment, *, succeed: bool = True) -> tuple[bytes, str]:
    """The buyer pays in the sandbox cashier; returns the signed callback the gateway will send."""
    gateway = get_gateway("sandbox")
    gateway.pay(payment.out_trade_no, succeed=succeed)
    return gateway.callback_body(payment.out_trade_no)


def signed(**fields) -> tuple[bytes, str]:
    body = json.dumps(fields, sort_keys=True).encode()
    return body, sign(body)


def deliver(body: bytes, signature: str):
    return receive_callback(gateway_name="sandbox", body=body, signature=signature)


def at_once(count: int, work) -> list[tuple[str, object]]:
    """Run work(i) in `count` threads released together; returns ("ok", value) or ("error", exc)."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = ("ok", work(i))
        except Exception as exc:
            results[i] = ("error", exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert all(not t.is_alive() for t in threads), "a worker thread hung"
    return results
