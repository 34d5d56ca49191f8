"""What orders asks the apps above it, without importing them.

Refunded amounts. The order page shows, next to each payment, how much of it was already sent back
(and stops offering to refund a duplicate payment that was). Refunds are decided above orders, so
orders cannot read them: the refunds app registers the function that can, in its
RefundsConfig.ready() (kameng.refunds.hooks). Without one, nothing was refunded.
"""

from collections.abc import Callable, Iterable

RefundedAmounts = Callable[[list], dict[int, int]]  # (payments) -> {payment id: 分 sent back}


def _nothing_refunded(payments: list) -> dict[int, int]:
    return {}


_refunded_amounts: RefundedAmounts = _nothing_refunded


def provide_refunded_amounts(fn: RefundedAmounts) -> None:
    """Register the function that tells, per payment, how much was refunded (one per process)."""
    global _refunded_amounts
    _refunded_amounts = fn


def refunded_amounts(payments: Iterable) -> dict[int, int]:
    """{payment id: amount in 分 refunded or being refunded through it}; payments not in it: 0."""
    return _refunded_amounts(list(payments))
