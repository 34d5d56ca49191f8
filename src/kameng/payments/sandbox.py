"""The sandbox gateway: behaves like a real one without a network.

Its "outside world" state lives in `SandboxTrade`/`SandboxRefund`, and its callbacks are posted by
a background task (payments.tasks.send_sandbox_callback), so they arrive late, repeatedly, or after
the order has expired, as real ones do. The task is handed in as `notify` when the sandbox is
registered (PaymentsConfig.ready()), so this module does not import the code the callback runs.
"""

import hmac
import json
import secrets
from collections.abc import Callable

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .gateway import Callback, Gateway, GatewayError, sign, strict_int
from .models import SandboxRefund, SandboxTrade

# A real gateway gives up after some retries; so does the sandbox's re-sender.
MAX_CALLBACKS = 8


class SandboxGateway(Gateway):
    name = "sandbox"

    def __init__(self, *, notify: Callable[[str], object]):
        """`notify(out_trade_no)` queues the asynchronous callback for a trade the buyer acted on."""
        self.notify = notify

    def enabled(self) -> bool:
        # Anyone can "pay" on the sandbox cashier: never selectable unless KAMENG_SANDBOX is on.
        return settings.SANDBOX

    def create_trade(self, *, out_trade_no: str, amount: int, subject: str) -> str:
        SandboxTrade.objects.get_or_create(
            out_trade_no=out_trade_no, defaults={"amount": amount, "subject": subject[:120]}
        )
        return f"/sandbox/pay/{out_trade_no}/"

    def verify(self, body: bytes, signature: str) -> Callback:
        # Compared as bytes: compare_digest raises TypeError on a non-ASCII str from a forged header.
        if not signature or not hmac.compare_digest(
            sign(body).encode(), signature.encode("utf-8", "replace")
        ):
            raise ValueError("bad signature")
        try:
            data = json.loads(body)
            cb = Callback(
                out_trade_no=str(data["out_trade_no"]),
                trade_no=str(data["trade_no"]),
                amount=strict_int(data["amount"]),
                status=str(data["status"]),
            )
        except (ValueError, KeyError, TypeError) as e:
            raise ValueError("malformed callback") from e
        if cb.status not in {"SUCCESS", "FAILED"} or cb.amount <= 0:
            raise ValueError("malformed callback")
        return cb

    def query(self, out_trade_no: str) -> Callback | None:
        trade = SandboxTrade.objects.filter(out_trade_no=out_trade_no).first()
        if trade is None or trade.status == SandboxTrade.Status.WAITING:
            return None
        return Callback(
            out_trade_no=trade.out_trade_no,
            trade_no=trade.trade_no,
            amount=trade.paid_amount,
            status="SUCCESS" if trade.status == SandboxTrade.Status.PAID else "FAILED",
        )

    def refund(self, *, key: str, trade_no: str, amount: int) -> str:
        with transaction.atomic():
            existing = SandboxRefund.objects.filter(key=key).first()
            if existing:
                return existing.refund_no
            if SandboxTrade.objects.filter(trade_no=trade_no).first() is None:
                raise GatewayError("unknown trade")
            if sandbox_fail_next_refund():
                raise GatewayError("sandbox: gateway busy, try again")
            return SandboxRefund.objects.create(
                key=key, trade_no=trade_no, amount=amount, refund_no="R" + secrets.token_hex(8)
            ).refund_no

    # --- the sandbox's own controls (what the buyer's bank app would do) ---------------------
    def pay(self, out_trade_no: str, *, succeed: bool = True, amount: int | None = None) -> Callback:
        """The buyer pays (or fails to). Queues the asynchronous callback, as a real gateway does."""
        with transaction.atomic():
            trade = SandboxTrade.objects.select_for_update().get(out_trade_no=out_trade_no)
            if trade.status == SandboxTrade.Status.WAITING:
                trade.status = SandboxTrade.Status.PAID if succeed else SandboxTrade.Status.FAILED
                trade.trade_no = "T" + timezone.now().strftime("%Y%m%d") + secrets.token_hex(6)
                trade.paid_amount = trade.amount if amount is None else amount
                trade.paid_at = timezone.now()
                trade.save()
            cb = self.query(out_trade_no)
            transaction.on_commit(lambda: self.notify(out_trade_no))
        return cb

    def callback_body(self, out_trade_no: str) -> tuple[bytes, str]:
        cb = self.query(out_trade_no)
        body = json.dumps(
            {
                "out_trade_no": cb.out_trade_no,
                "trade_no": cb.trade_no,
                "amount": cb.amount,
                "status": cb.status,
            },
            sort_keys=True,
        ).encode()
        return body, sign(body)

    def resend_unacknowledged(self, limit: int = 100) -> int:
        """Queue again the callbacks we have not acknowledged, like real gateways do (the tick calls
        this). Returns how many were queued."""
        unacked = list(
            SandboxTrade.objects.exclude(status=SandboxTrade.Status.WAITING)
            .filter(acknowledged=False, callbacks_sent__lt=MAX_CALLBACKS)
            .values_list("out_trade_no", flat=True)[:limit]
        )
        for out_trade_no in unacked:
            self.notify(out_trade_no)
        return len(unacked)


_fail_refunds = {"n": 0}


def sandbox_fail_next_refund(times: int | None = None) -> bool:
    """Test/ops hook: make the next `times` sandbox refunds fail like a busy gateway."""
    if times is not None:
        _fail_refunds["n"] = times
        return False
    if _fail_refunds["n"] > 0:
        _fail_refunds["n"] -= 1
        return True
    return False
