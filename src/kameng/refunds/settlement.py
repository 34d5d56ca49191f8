"""Settlement: once an order's refund window has passed with no case open, its escrow goes to the
seller's payable (platform goods: platform revenue). A later refund claws it back (see _execute)."""

from datetime import timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from kameng.orders import aftersales
from kameng.orders.models import Order, OrderStatus
from kameng.orders.services import lock_order
from kameng.wallet.models import Transaction

from . import policy
from .models import RefundCase
from .policy import ClauseNo

BATCH = 200


def settle_due_orders(now=None) -> int:
    now = now or timezone.now()
    cutoff = now - timedelta(days=policy.param(ClauseNo.UNOPENED_KEY, "days", 7))
    due = (
        Order.objects.filter(
            status__in=[OrderStatus.DELIVERED, OrderStatus.COMPLETED], delivered_at__lte=cutoff
        )
        .exclude(Exists(RefundCase.objects.filter(order=OuterRef("pk"), is_open=True)))
        .exclude(Exists(Transaction.objects.filter(kind="settlement", reference=OuterRef("no"))))
        .order_by("delivered_at")
        .values_list("pk", flat=True)[:BATCH]
    )
    settled = 0
    for order_id in list(due):
        with transaction.atomic():
            order = lock_order(order_id)
            if RefundCase.objects.filter(order=order, is_open=True).exists():
                continue  # a case opened meanwhile: the money stays where a refund can reach it
            if aftersales.settle(order):
                settled += 1
    return settled
