"""The payment channel's complaint interface, behind an adapter like the payment gateway's.

A real channel (WeChat Pay's 消费者投诉 API, Alipay's 交易投诉 API) is one more subclass of
`PayChannelClient` registered under its channel name; `SandboxPayChannel` behaves like one without a
network: it deduplicates on our idempotency key (a retried call is not a second reply), fails now
and then when told to (`fail_next`), and refuses `complete` while it has seen no refund for a
complaint that asked for money.
"""

import hmac
import json
from collections.abc import Callable

from django.conf import settings
from django.db import IntegrityError, transaction

from kameng.payments.gateway import sign

from ..models import ChannelCall, ChannelComplaint, SandboxChannelCall


class ChannelError(Exception):
    """The channel did not take the call now (network, busy, not yet allowed). Retried with the same key."""


class PayChannelClient:
    def reply(self, complaint: ChannelComplaint, text: str, *, key: str) -> None:
        raise NotImplementedError

    def report_refund(self, complaint: ChannelComplaint, amount: int, *, key: str) -> None:
        raise NotImplementedError

    def complete(self, complaint: ChannelComplaint, *, key: str) -> None:
        raise NotImplementedError

    def send(self, call: ChannelCall) -> None:
        """Send one outbox row by its action."""
        if call.action == ChannelCall.Action.REPLY:
            self.reply(call.complaint, call.text, key=call.key)
        elif call.action == ChannelCall.Action.REFUND:
            self.report_refund(call.complaint, call.amount, key=call.key)
        else:
            self.complete(call.complaint, key=call.key)


def secret() -> str:
    return settings.PAY_CHANNEL_SECRET


def signature_ok(body: bytes, signature: str) -> bool:
    # Compared as bytes: compare_digest raises TypeError on a non-ASCII str from a forged header.
    return bool(signature) and hmac.compare_digest(
        sign(body, secret()).encode(), signature.encode("utf-8", "replace")
    )


class SandboxPayChannel(PayChannelClient):
    def __init__(self, channel: str, *, deliver: Callable[..., object] | None = None):
        """`deliver(channel=, body=, signature=)` is our webhook's handler: the sandbox posts its
        notifications to it, as a real channel posts to the URL (handed in, so this module does not
        import the code it runs)."""
        self.channel = channel
        self.deliver = deliver
        self.failures = 0

    def fail_next(self, times: int) -> None:
        """Test/ops control: the next `times` calls fail like a busy channel."""
        self.failures = times

    def _record(self, complaint: ChannelComplaint, action: str, *, key: str, text="", amount=0) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise ChannelError("sandbox: channel busy, try again")
        if SandboxChannelCall.objects.filter(key=key).exists():
            return  # the same call again: the channel answers as it did the first time
        try:
            with transaction.atomic():
                SandboxChannelCall.objects.create(
                    key=key,
                    channel=self.channel,
                    complaint_id=complaint.complaint_id,
                    action=action,
                    text=text,
                    amount=amount,
                )
        except IntegrityError:  # a concurrent retry of the same call got there first
            return

    def reply(self, complaint, text, *, key):
        self._record(complaint, "reply", key=key, text=text)

    def report_refund(self, complaint, amount, *, key):
        self._record(complaint, "refund", key=key, amount=amount)

    def complete(self, complaint, *, key):
        seen = SandboxChannelCall.objects.filter(
            channel=self.channel, complaint_id=complaint.complaint_id, action="refund"
        )
        if complaint.amount > 0 and not seen.exists():
            raise ChannelError("sandbox: no refund seen for this complaint, cannot complete")
        self._record(complaint, "complete", key=key)

    def notification(self, **fields) -> tuple[bytes, str]:
        """A signed notification as the channel would post it (the sandbox's own control)."""
        body = json.dumps(fields, ensure_ascii=False, sort_keys=True).encode()
        return body, sign(body, secret())

    def complain(self, *, times: int = 2, **fields) -> list:
        """The buyer complains at the channel: it notifies us, more than once, as real channels do
        (they retry until they read success, and sometimes after). Returns each delivery's answer."""
        body, signature = self.notification(**fields)
        return [self.deliver(channel=self.channel, body=body, signature=signature) for _ in range(times)]


CLIENTS: dict[str, PayChannelClient] = {}


def register(channel: str, client: PayChannelClient) -> None:
    CLIENTS[channel] = client


def client_for(channel: str) -> PayChannelClient:
    """The registered client of that channel; KeyError when there is none (or the sandbox is off)."""
    return CLIENTS[channel]
