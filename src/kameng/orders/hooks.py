"""What orders asks or tells the apps above it, without importing them.

Refunded amounts. The order page shows, next to each payment, how much of it was already sent back
(and stops offering to refund a duplicate payment that was). Refunds are decided above orders, so
orders cannot read them: the refunds app registers the function that can, in its
RefundsConfig.ready() (kameng.refunds.hooks). Without one, nothing was refunded.
"""

from collections.abc import Callable, Iterable

TopupFailed = Callable[[object], None]  # (the order, locked by the caller) -> None

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


# A failed direct top-up. The supplier said it failed: the buyer gets their money back without
# asking (SPEC §4, clause 3). The refund engine sits above orders, so it registers what to do
# (kameng.refunds.hooks); without one, the order waits for the buyer to file.


def _nobody_listens(order) -> None:
    return None


_topup_failed: TopupFailed = _nobody_listens


def provide_topup_failed_handler(fn: TopupFailed) -> None:
    """Register what happens when a supplier reports a top-up failed (one per process)."""
    global _topup_failed
    _topup_failed = fn


def topup_failed(order) -> None:
    """The supplier reported `order`'s top-up failed, recorded in the caller's transaction under
    the order lock, which the handler runs under too (so it and a buyer's own filing go one
    after the other)."""
    _topup_failed(order)
