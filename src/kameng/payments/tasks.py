from django.db.models import F
from django_tasks import task

from .gateway import get_gateway
from .models import SandboxTrade
from .services import receive_callback


@task()
def send_sandbox_callback(out_trade_no: str) -> str:
    """The sandbox gateway's notifier: posts the signed callback to our own handler, as an HTTP
    gateway would, and keeps trying (the tick re-sends unacknowledged ones) until we answer success."""
    gateway = get_gateway("sandbox")
    body, signature = gateway.callback_body(out_trade_no)
    result = receive_callback(gateway_name="sandbox", body=body, signature=signature)
    SandboxTrade.objects.filter(out_trade_no=out_trade_no).update(
        acknowledged=result.ok, callbacks_sent=F("callbacks_sent") + 1
    )
    return result.message
