"""Payment gateway adapter.

A gateway creates a trade for our `out_trade_no`, later tells us by a signed asynchronous callback
(retried until we answer "success", sometimes more than once), can be asked for a trade's state,
and takes refunds with our idempotency key. Gateways are registered by name at start-up
(PaymentsConfig.ready()); `kameng.payments.sandbox` is the one that runs without a network, and a
real gateway (Alipay, WeChat Pay) is one more subclass registered the same way.
"""

import hashlib
import hmac
from dataclasses import dataclass

from django.conf import settings


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

    def enabled(self) -> bool:
        """Whether this gateway may be selected in this deployment."""
        return True

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


def strict_int(value) -> int:
    """Amounts are integer 分: 1000.9 or "1000" in a callback is malformed, never rounded."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError("amount must be an integer")
    return value


def sign(body: bytes, secret: str | None = None) -> str:
    return hmac.new((secret or settings.GATEWAY_SECRET).encode(), body, hashlib.sha256).hexdigest()


GATEWAYS: dict[str, Gateway] = {}


def register(gateway: Gateway) -> None:
    GATEWAYS[gateway.name] = gateway


def get_gateway(name: str = "sandbox") -> Gateway:
    """The registered gateway of that name; KeyError for an unknown or switched-off one."""
    gateway = GATEWAYS[name]
    if not gateway.enabled():
        raise KeyError(name)
    return gateway
