"""Payment gateway adapter.

A gateway creates a trade for our `out_trade_no`, later tells us by a signed asynchronous callback
(retried until we answer "success", sometimes more than once), can be asked for a trade's state,
and takes refunds with our idempotency key. `SandboxGateway` behaves that way without a network:
its "outside world" state lives in `SandboxTrade`/`SandboxRefund`, and callbacks are delivered by a
background task, so they arrive late, repeatedly, or after the order has expired, as real ones do.
A real gateway (Alipay, WeChat Pay) is one more subclass registered in `GATEWAYS`.
"""

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone


class GatewayError(Exception):
    """The gateway could not do it now (network, maintenance). Safe to retry with the same key."""


@dataclass(frozen=True)
class Callback:
    out_trade_no: str
    trade_no: str
    amount: int
    status: str  # "SUCCESS" | "FAILED"


class Gateway:
    name = ""

    def create_trade(self, *, out_trade_no: str, amount: int, subject: str) -> str:
        """Return the URL where the buyer pays."""
        raise NotImplementedError

    def verify(self, body: bytes, signature: str) -> Callback:
        """Parse a callback, raising ValueError when the signature or body is wrong."""
        raise NotImplementedError

    def query(self, out_trade_no: str) -> Callback | None:
        raise NotImplementedError

    def refund(self, *, key: str, trade_no: str, amount: int) -> str:
        """Refund with idempotency `key`; returns the gateway's refund number. Same key, same refund."""
        raise NotImplementedError


def _strict_int(value) -> int:
    """Amounts are integer 分: 1000.9 or "1000" in a callback is malformed, never rounded."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError("amount must be an integer")
    return value


def sign(body: bytes, secret: str | None = None) -> str:
    return hmac.new((secret or settings.GATEWAY_SECRET).encode(), body, hashlib.sha256).hexdigest()


class SandboxGateway(Gateway):
    name = "sandbox"

    def create_trade(self, *, out_trade_no: str, amount: int, subject: str) -> str:
        from .models import SandboxTrade

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
                amount=_strict_int(data["amount"]),
                status=str(data["status"]),
            )
        except (ValueError, KeyError, TypeError) as e:
            raise ValueError("malformed callback") from e
        if cb.status not in {"SUCCESS", "FAILED"} or cb.amount <= 0:
            raise ValueError("malformed callback")
        return cb

    def query(self, out_trade_no: str) -> Callback | None:
        from .models import SandboxTrade

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
        from .models import SandboxRefund, SandboxTrade

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
        from .models import SandboxTrade
        from .tasks import send_sandbox_callback

        with transaction.atomic():
            trade = SandboxTrade.objects.select_for_update().get(out_trade_no=out_trade_no)
            if trade.status == SandboxTrade.Status.WAITING:
                trade.status = SandboxTrade.Status.PAID if succeed else SandboxTrade.Status.FAILED
                trade.trade_no = "T" + timezone.now().strftime("%Y%m%d") + secrets.token_hex(6)
                trade.paid_amount = trade.amount if amount is None else amount
                trade.paid_at = timezone.now()
                trade.save()
            cb = self.query(out_trade_no)
            transaction.on_commit(lambda: send_sandbox_callback.enqueue(out_trade_no))
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


GATEWAYS: dict[str, Gateway] = {"sandbox": SandboxGateway()}


def get_gateway(name: str = "sandbox") -> Gateway:
    return GATEWAYS[name]
