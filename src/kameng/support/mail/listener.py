"""kameng's own SMTP listener (SPEC §12): 127.0.0.1:SMTP_PORT (2525 under `make run`). It accepts
mail only for the support addresses (anything else: 550), refuses a mail over MAIL_MAX_BYTES (552),
stores the raw bytes durably before answering 250, then files the mail (`inbound.receive`)."""

import asyncio
import logging

from aiosmtpd.controller import Controller
from django.conf import settings
from django.db import close_old_connections

from .inbound import is_support_address, receive

log = logging.getLogger(__name__)


class SupportMailHandler:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if not is_support_address(address):
            return (
                f"550 5.1.1 <{address}>: no such mailbox here (only support@{settings.SUPPORT_MAIL_DOMAIN})"
            )
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(None, store_and_file, raw, envelope.mail_from or "", envelope.rcpt_tos)
        except Exception:
            log.exception("could not store an inbound mail")
            return "451 4.3.0 could not store the mail now, please retry"
        return "250 2.0.0 Message accepted"


def store_and_file(raw: bytes, mail_from: str, rcpt_tos) -> None:
    close_old_connections()
    try:
        receive(raw=raw, source="smtp", envelope_from=mail_from, recipients=list(rcpt_tos))
    finally:
        close_old_connections()


def controller(*, host: str | None = None, port: int | None = None) -> Controller:
    """An aiosmtpd controller for the support mailbox (call .start() and .stop())."""
    return Controller(
        SupportMailHandler(),
        hostname=host or settings.SMTP_HOST,
        port=settings.SMTP_PORT if port is None else port,
        data_size_limit=settings.MAIL_MAX_BYTES,
        server_hostname=settings.SUPPORT_MAIL_DOMAIN,
        ready_timeout=10,
    )
