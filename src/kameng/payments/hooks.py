"""What payments tells the apps above it, without importing them.

Order payments. When a gateway confirms money for an order (`Payment.purpose == ORDER`),
`payments.services.apply_gateway_result` has already, in one transaction:
  1. locked the payment row (`select_for_update`), so duplicate callbacks of one trade take turns;
  2. refused a replay (same gateway trade: acknowledged, no effect), a second trade, or an amount
     that disagrees with the stored one;
  3. marked the payment succeeded.
It then calls the one handler registered here, in that same transaction, and answers the gateway
with the text the handler returns. The handler decides what the money is for the order: it takes
the order's row lock, posts the money to the ledger under exactly `ledger_key` (the idempotency key
derived from the gateway's trade), and pays the order, or credits a closed order's money to the
buyer's balance (`payments.services.mark_credited_to_balance`), or keeps a duplicate payment for the
refund engine. Raising rolls the whole callback back; the gateway sends it again.

orders registers the handler in OrdersConfig.ready() (`orders.services.apply_order_payment`).
"""

from collections.abc import Callable

from django.core.exceptions import ImproperlyConfigured

OrderPaymentHandler = Callable[..., str]  # (payment, *, ledger_key: str) -> short result text

_order_payment_handler: OrderPaymentHandler | None = None


def handle_order_payments(handler: OrderPaymentHandler) -> None:
    """Register the handler of succeeded order payments (one per process; a second replaces it)."""
    global _order_payment_handler
    _order_payment_handler = handler


def order_payment_succeeded(payment, *, ledger_key: str) -> str:
    """Hand a succeeded order payment to the registered handler (see the module docstring)."""
    if _order_payment_handler is None:
        # Money for an order with nobody to take it: refuse, so the gateway retries later.
        raise ImproperlyConfigured("no handler for order payments: is kameng.orders installed?")
    return _order_payment_handler(payment, ledger_key=ledger_key)
