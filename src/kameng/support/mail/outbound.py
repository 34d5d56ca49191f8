"""Replies that go out by email (SPEC §8 Email): the outbox rows `services.mail_reply` writes in the
same transaction as the message are sent here, after commit, by the tick; a failure is retried with
backoff and, after MAX_ATTEMPTS, left marked for a person. Each mail says From support@…, Reply-To
support+<token>@… (the token brings the answer back to the same conversation), and carries the
Message-ID stored on the row, In-Reply-To and References to the buyer's mail, in UTF-8."""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from ..models import AuthorKind, OutboundMail

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
St = OutboundMail.State


def reply_address(mail: OutboundMail) -> str:
    return f"support+{mail.reply_token}@{settings.SUPPORT_MAIL_DOMAIN}"


def compose(mail: OutboundMail) -> EmailMessage:
    message = mail.message
    with translation.override(settings.LANGUAGE_CODE):
        if message.author_kind == AuthorKind.AGENT and message.author and message.author.agent_no:
            # The verified mark of the mail channel: the 工号 and where anyone can check it.
            signed = _("卡盟官方客服 %(no)s（可在 %(url)s 核实工号）") % {
                "no": message.author.agent_no,
                "url": f"{settings.SITE_URL.rstrip('/')}/verify/?value={message.author.agent_no}",
            }
        else:
            signed = _("卡盟客服")
        footer = _("直接回复这封邮件即可继续对话。卡盟不会索要验证码、密码或保证金。")
        # The buyer reads it: someone else's secrets arrive masked (SPEC §9), as on the page.
        text = message.text_for(message.conversation.buyer_id)
        body = f"{text}\n\n—— {signed}\n{footer}\n"
        if message.link:
            body = f"{text}\n{settings.SITE_URL}{message.link}\n\n—— {signed}\n{footer}\n"
    headers = {"Message-ID": mail.msgid}
    if mail.in_reply_to:
        headers["In-Reply-To"] = mail.in_reply_to
    if mail.references:
        headers["References"] = mail.references
    email = EmailMessage(
        subject=mail.subject,
        body=body,
        from_email=settings.SUPPORT_MAIL_FROM,
        to=[mail.to_address],
        reply_to=[reply_address(mail)],
        headers=headers,
    )
    email.encoding = "utf-8"
    return email


def send_due(now=None, limit: int = 50) -> int:
    """Send what is due; returns how many went out."""
    now = now or timezone.now()
    ids = list(
        OutboundMail.objects.filter(state=St.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(send_one(mail_id) for mail_id in ids)


@transaction.atomic
def send_one(mail_id: int) -> bool:
    mail = (
        OutboundMail.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("message", "message__author")
        .filter(pk=mail_id, state=St.PENDING)
        .first()
    )
    if mail is None:  # sent meanwhile, or another worker holds it
        return False
    mail.attempts += 1
    try:
        compose(mail).send(fail_silently=False)
    except Exception as error:
        log.warning("outbound mail %s failed (attempt %s): %r", mail.pk, mail.attempts, error)
        mail.last_error = repr(error)[:500]
        if mail.attempts >= MAX_ATTEMPTS:
            mail.state = St.FAILED
        mail.next_attempt_at = timezone.now() + timedelta(minutes=2 ** min(mail.attempts, 8))
        mail.save()
        return False
    mail.state, mail.sent_at, mail.last_error = St.SENT, timezone.now(), ""
    mail.save()
    return True
