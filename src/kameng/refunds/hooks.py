"""The refunds side of the hooks lower apps offer (registered in RefundsConfig.ready())."""

from kameng.catalog import hooks as catalog_hooks
from kameng.orders import hooks as order_hooks

from . import policy
from .actions.filing import refund_failed_topup
from .models import Payout


def refunded_amounts(payments) -> dict[int, int]:
    """{payment id: what payouts sent back, or are sending back, through that payment}."""
    refunded: dict[int, int] = {}
    for payment_id, amount in Payout.objects.filter(
        payment__in=payments, status__in=[Payout.Status.PENDING, Payout.Status.SUCCEEDED]
    ).values_list("payment_id", "amount"):
        refunded[payment_id] = refunded.get(payment_id, 0) + amount
    return refunded


def register() -> None:
    order_hooks.provide_refunded_amounts(refunded_amounts)
    order_hooks.provide_topup_failed_handler(refund_failed_topup)
    catalog_hooks.provide_refund_terms(policy.terms_for_kind)
