import logging

from django_tasks import task

log = logging.getLogger(__name__)


@task()
def send_sandbox_callback(out_trade_no: str) -> str:
    """The sandbox gateway's notifier: posts the signed callback to our own handler, as an HTTP
    gateway would, and keeps trying (the tick re-sends unacknowledged ones) until we answer success."""
    from .gateway import get_gateway
    from .models import SandboxTrade
    from .services import receive_callback

    gateway = get_gateway("sandbox")
    body, signature = gateway.callback_body(out_trade_no)
    result = receive_callback(gateway_name="sandbox", body=body, signature=signature)
    SandboxTrade.objects.filter(out_trade_no=out_trade_no).update(acknowledged=result.ok)
    from django.db.models import F

    SandboxTrade.objects.filter(out_trade_no=out_trade_no).update(callbacks_sent=F("callbacks_sent") + 1)
    return result.message


@task()
def retry_delivery_task(order_id: int) -> str:
    from .services import retry_delivery

    return retry_delivery(order_id=order_id).status


@task()
def deliver_waiting_orders_task(product_id: int) -> int:
    from .services import deliver_waiting_orders

    return deliver_waiting_orders(product_id=product_id)
