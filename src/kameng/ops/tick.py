"""The periodic tick: finds what is due with indexed queries and hands it to background tasks."""

import logging

from django.utils import timezone

log = logging.getLogger(__name__)


def tick(now=None) -> dict:
    from kameng.orders.models import Delivery, DeliveryStatus, SandboxTrade
    from kameng.orders.services import expire_pending_orders
    from kameng.orders.tasks import retry_delivery_task, send_sandbox_callback

    now = now or timezone.now()
    done = {"expired": expire_pending_orders(now)}
    # The sandbox gateway re-sends callbacks we have not acknowledged, like real gateways do.
    unacked = list(
        SandboxTrade.objects.exclude(status=SandboxTrade.Status.WAITING)
        .filter(acknowledged=False, callbacks_sent__lt=8)
        .values_list("out_trade_no", flat=True)[:100]
    )
    for out_trade_no in unacked:
        send_sandbox_callback.enqueue(out_trade_no)
    done["callbacks"] = len(unacked)
    # Top-ups whose result was unknown: ask the supplier again.
    unknown = list(
        Delivery.objects.filter(status=DeliveryStatus.UNKNOWN).values_list("order_id", flat=True)[:100]
    )
    for order_id in unknown:
        retry_delivery_task.enqueue(order_id)
    done["topups_rechecked"] = len(unknown)
    from kameng.refunds.settlement import settle_due_orders

    done["settled"] = settle_due_orders(now)
    try:
        from kameng.refunds.timers import enqueue_due

        done["deadlines"] = enqueue_due(now)
    except ImportError:
        pass
    return done
