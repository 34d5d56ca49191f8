"""Settlement: once an order's refund window has passed with no case open, its escrow goes to the
seller's payable (platform goods: platform revenue). A later refund claws it back (see _execute).

The tick reads only the orders whose window has run out, by the index on
`Order.settlement_window_from`: a settled or refunded order leaves that index, and an order an open
case holds back is looked at again after RECHECK, not on every tick."""

from datetime import timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from kameng.orders import aftersales
from kameng.orders.models import Order, OrderStatus
from kameng.orders.services import lock_order

from . import policy
from .models import RefundCase
from .policy import ClauseNo

BATCH = 200
# How long an order held back by an open case waits before the tick looks at it again: a case that
# closes is settled at most this much later.
RECHECK = timedelta(hours=1)
SETTLEABLE = (OrderStatus.DELIVERED, OrderStatus.COMPLETED)


def settle_due_orders(now=None) -> int:
    now = now or timezone.now()
    window = timedelta(days=policy.param(ClauseNo.UNOPENED_KEY, "days", 7))
    due = list(
        Order.objects.filter(settlement_window_from__lte=now - window)
        .order_by("settlement_window_from")
        .annotate(held=Exists(RefundCase.objects.filter(order=OuterRef("pk"), is_open=True)))
        .values_list("pk", "status", "held")[:BATCH]
    )
    if not due:
        return 0
    # Held back: the window is set to run out again RECHECK from now.
    held_until = now + RECHECK - window
    aftersales.drop_from_settlement([pk for pk, status, _held in due if status not in SETTLEABLE])
    aftersales.hold_settlement(
        [pk for pk, status, held in due if held and status in SETTLEABLE], window_from=held_until
    )
    settled = 0
    for order_id in [pk for pk, status, held in due if not held and status in SETTLEABLE]:
        with transaction.atomic():
            order = lock_order(order_id)
            if RefundCase.objects.filter(order=order, is_open=True).exists():
                # A case opened meanwhile: the money stays where a refund can reach it.
                aftersales.hold_settlement([order.pk], window_from=held_until)
                continue
            if aftersales.settle(order):
                settled += 1
    return settled
