"""Mail to the support address lands in the support conversations (SPEC §8 Email, §12).

`receive` stores the raw bytes first (their own transaction: a crash in parsing loses nothing) and
then `process` files the mail: a reply (our reply token, or In-Reply-To/References naming a mail we
sent) → the same conversation; a sender whose address is a buyer's → their conversation (the order
in the subject → that order's; `紧急退款-<订单号>` → urgent); anyone else → kept and listed for a
person as 身份待核实, with nothing of any buyer shown to them. The same Message-ID delivered twice
is filed once; a flood from one sender is kept but not answered."""

import hashlib
import logging
import re
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from kameng.orders.models import Order
from kameng.sentences import Sentence, stored

from .. import attachments as files
from .. import services
from ..models import Channel, Conversation, InboundMail, OutboundMail
from .parse import ParsedMail, message_id_key, parse

log = logging.getLogger(__name__)

ORDER_NO = re.compile(r"(?<![A-Za-z0-9])(KM\d{10,30})(?!\d)", re.IGNORECASE)
URGENT = re.compile(r"紧急退款|緊急退款")
FLOOD_LIMIT = 20
MAX_ATTACHMENTS = 20
FLOOD_WINDOW = timedelta(minutes=10)
S = InboundMail.State


def is_support_address(address: str) -> bool:
    """support@<domain> or support+<anything>@<domain>, any case."""
    local, _at, domain = (address or "").strip().strip("<>").lower().rpartition("@")
    return domain == settings.SUPPORT_MAIL_DOMAIN and (local == "support" or local.startswith("support+"))


def reply_tokens(addresses) -> list[str]:
    tokens = []
    for address in addresses:
        local, _at, domain = address.strip().strip("<>").lower().rpartition("@")
        if domain == settings.SUPPORT_MAIL_DOMAIN and local.startswith("support+"):
            tokens.append(local.removeprefix("support+"))
    return tokens


def store_raw(
    *, raw: bytes, source: str, envelope_from: str = "", recipients=(), source_ref: str | None = None
) -> InboundMail:
    """The raw mail, durably, before anything reads it. An IMAP mail already stored (same mailbox,
    UIDVALIDITY and UID) is returned as it is."""
    fields = {
        "source": source,
        "raw": raw,
        "size": len(raw),
        "envelope_from": envelope_from[:320],
        "recipients": "\n".join(recipients),
    }
    if source_ref:
        try:
            with transaction.atomic():
                mail, _created = InboundMail.objects.get_or_create(source_ref=source_ref, defaults=fields)
        except IntegrityError:  # the same UID stored by a concurrent fetch
            mail = InboundMail.objects.get(source_ref=source_ref)
        return mail
    return InboundMail.objects.create(**fields)


def receive(
    *, raw: bytes, source: str, envelope_from: str = "", recipients=(), source_ref=None
) -> InboundMail:
    mail = store_raw(
        raw=raw, source=source, envelope_from=envelope_from, recipients=recipients, source_ref=source_ref
    )
    return process_safely(mail.pk)


def process_safely(mail_id: int) -> InboundMail:
    """`process`, and if it fails the raw mail stays, marked for a person with what went wrong."""
    try:
        return process(mail_id=mail_id)
    except Exception as error:
        log.exception("inbound mail %s could not be processed", mail_id)
        with transaction.atomic():
            mail = InboundMail.objects.select_for_update().get(pk=mail_id)
            if mail.state == S.RECEIVED:
                mail.state, mail.needs_review = S.FAILED, True
                mail.problems = [
                    *mail.problems,
                    stored(Sentence(gettext_noop("自动处理失败：%(error)s"), error=repr(error)[:200])),
                ]
                mail.processed_at = timezone.now()
                mail.save()
        return mail


def reprocess_pending(limit: int = 100) -> int:
    """Mails stored but never processed (the listener stopped in between): process them now."""
    ids = list(
        InboundMail.objects.filter(state=S.RECEIVED).order_by("id").values_list("pk", flat=True)[:limit]
    )
    for mail_id in ids:
        process_safely(mail_id)
    return len(ids)


@transaction.atomic
def process(*, mail_id: int) -> InboundMail:
    mail = InboundMail.objects.select_for_update().get(pk=mail_id)
    if mail.state != S.RECEIVED:
        return mail
    parsed = parse(bytes(mail.raw))
    fill(mail, parsed)
    mail.processed_at = timezone.now()
    if mail.msgid and claim_message_id(mail):
        mail.state = S.DUPLICATE
        mail.save()
        return mail
    mail.throttled = flooding(mail)
    conversation, trusted = route(mail, parsed)
    if conversation is None:
        mail.state = S.IDENTITY
        mail.save()
        return mail
    if not trusted:
        mail.needs_review = True
        mail.problems.append(stored(Sentence(gettext_noop("发件人地址不是该会话买家的邮箱，请核实身份"))))
    mail.conversation = conversation
    mail.urgent = bool(URGENT.search(mail.subject))
    mail.save()
    message = services.post_from_channel(
        conversation_id=conversation.pk,
        buyer=conversation.buyer,
        body=message_body(mail),
        client_id=client_id(mail),
        channel=Channel.EMAIL,
        urgent=mail.urgent,
        # Nothing automatic for a flood, an unverified sender, an auto-reply, or text we could not read.
        quiet=mail.throttled or not trusted or parsed.automatic or bool(parsed.problems),
    )
    if not InboundMail.objects.filter(message=message).exists():
        mail.message = message
    mail.state = S.FILED
    mail.save()
    store_attachments(mail, message, parsed)
    return mail


def fill(mail: InboundMail, parsed: ParsedMail) -> None:
    mail.msgid = parsed.message_id[:998]
    mail.references = " ".join(parsed.in_reply_to)
    mail.sender = parsed.sender or mail.envelope_from.lower()
    mail.sender_name = parsed.sender_name
    mail.subject = parsed.subject
    mail.text = parsed.text
    mail.attachments = [
        {"name": a.name, "type": a.content_type, "size": len(a.data)} for a in parsed.attachments
    ]
    mail.problems = [stored(p) for p in parsed.problems]
    mail.needs_review = bool(parsed.problems)


def claim_message_id(mail: InboundMail) -> bool:
    """True when this Message-ID was filed before (the mail is a second delivery)."""
    key = message_id_key(mail.msgid)
    first = InboundMail.objects.filter(message_key=key).exclude(pk=mail.pk).first()
    if first is None:
        mail.message_key = key
        try:
            with transaction.atomic():
                mail.save(update_fields=["message_key"])
            return False
        except IntegrityError:  # delivered twice at the same moment: the other copy won
            mail.message_key = None
            first = InboundMail.objects.filter(message_key=key).first()
    mail.duplicate_of = first
    return True


def flooding(mail: InboundMail) -> bool:
    if not mail.sender:
        return False
    since = timezone.now() - FLOOD_WINDOW
    recent = InboundMail.objects.filter(sender=mail.sender, received_at__gte=since).exclude(pk=mail.pk)
    return recent.exclude(state=S.DUPLICATE).count() >= FLOOD_LIMIT


def buyer_by_address(address: str):
    """The one user whose email is `address` (any case); nobody when none or several have it."""
    if not address or "@" not in address:
        return None
    users = list(get_user_model().objects.filter(email__iexact=address, is_active=True)[:2])
    return users[0] if len(users) == 1 else None


def route(mail: InboundMail, parsed: ParsedMail) -> tuple[Conversation | None, bool]:
    """(conversation, trusted): trusted when the sender's address is the conversation's buyer's."""
    buyer = buyer_by_address(mail.sender)
    addresses = [*mail.recipients.split(), *parsed.recipients]
    tokens = reply_tokens(addresses)
    sent = OutboundMail.objects.select_related("conversation").filter(reply_token__in=tokens).first()
    if sent is None and buyer is not None and parsed.in_reply_to:
        sent = (
            OutboundMail.objects.select_related("conversation")
            .filter(msgid__in=parsed.in_reply_to, conversation__buyer=buyer)
            .first()
        )
    if sent is not None:
        # The token is a secret only our mail carried: the reply belongs in that conversation even
        # from another address, but a person checks who wrote before the bot answers anything.
        return sent.conversation, buyer is not None and buyer.pk == sent.conversation.buyer_id
    if buyer is None:
        return None, False
    order = None
    for no in ORDER_NO.findall(mail.subject):
        order = Order.objects.filter(no__iexact=no, buyer=buyer).first()
        if order is not None:
            break
    return services.conversation_for(buyer=buyer, order=order), True


def message_body(mail: InboundMail) -> str:
    text = mail.text.strip()
    if mail.subject and mail.subject not in text[:200]:
        text = f"【{mail.subject}】\n{text}".strip()
    return text or ("-" if not mail.attachments else "")


def client_id(mail: InboundMail) -> str:
    """ "mail:" + Message-ID (hashed when it would not fit); a mail without one: its stored row."""
    if not mail.msgid:
        return f"mail:row-{mail.pk}"
    key = f"mail:{mail.msgid}"
    return (
        key if len(key) <= services.CLIENT_ID_MAX else "mail:" + hashlib.sha256(key.encode()).hexdigest()[:59]
    )


def store_attachments(mail: InboundMail, message, parsed: ParsedMail) -> None:
    """Each attachment checked and stored with the message (support.attachments); one that is
    refused is kept as its name and the reason, and the mail is flagged. The raw mail has them all."""
    if message.attachments.exists():  # the message was filed before (a retry): stored then
        return
    for number, part in enumerate(parsed.attachments):
        if number >= MAX_ATTACHMENTS:
            reason = Sentence(
                gettext_noop("一封邮件最多保存 %(n)d 个附件，其余见原始邮件"), n=MAX_ATTACHMENTS
            )
            files.note_refused(message=message, name=part.name, reason=str(reason))
            mail.problems.append(stored(reason))
            break
        try:
            with transaction.atomic():
                files.attach(message=message, name=part.name, data=part.data)
        except files.AttachmentError as refused:
            files.note_refused(message=message, name=part.name, reason=str(refused))
            mail.problems.append(
                stored(
                    Sentence(gettext_noop("附件“%(name)s”未保存：%(why)s"), name=part.name, why=str(refused))
                )
            )
    if mail.problems:
        mail.needs_review = True
        mail.save(update_fields=["problems", "needs_review"])


def needing_a_person():
    """Mails a person must look at and nobody has yet: strangers (身份待核实), mails that could not
    be read or processed, flagged ones."""
    return (
        InboundMail.objects.filter(reviewed_at__isnull=True)
        .filter(Q(state__in=[S.IDENTITY, S.FAILED]) | Q(needs_review=True))
        .select_related("conversation", "conversation__buyer")
        .defer("raw")
        .order_by("id")
    )


@transaction.atomic
def mark_reviewed(*, mail_id: int, agent) -> InboundMail:
    mail = InboundMail.objects.select_for_update().defer("raw").filter(pk=mail_id).first()
    if mail is None:
        raise services.SupportError(_("邮件不存在。"))
    if mail.reviewed_at is None:
        mail.reviewed_by, mail.reviewed_at = agent, timezone.now()
        mail.save(update_fields=["reviewed_by", "reviewed_at"])
    return mail


@transaction.atomic
def file_for_buyer(*, mail_id: int, agent, who: str) -> InboundMail:
    """A stranger's mail (身份待核实) whose sender an agent has verified (by phone, by the order they
    named): filed into that buyer's conversation as if it had come from their address, with an
    internal note saying who checked. `who` is the buyer's username, email or phone number."""
    if not services.may_answer(agent):
        raise services.SupportError(_("只有客服可以核实身份。"))
    mail = InboundMail.objects.select_for_update().filter(pk=mail_id).first()
    if mail is None:
        raise services.SupportError(_("邮件不存在。"))
    if mail.state != S.IDENTITY:
        raise services.SupportError(_("这封邮件不在“身份待核实”中。"))
    who = (who or "").strip()
    users = (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(username=who) | Q(email__iexact=who) | Q(phone=who))
        if who
        else get_user_model().objects.none()
    )
    found = list(users[:2])
    if len(found) != 1:
        raise services.SupportError(
            _("没有找到唯一的买家“%(who)s”，请输入买家的用户名、邮箱或手机号。") % {"who": who}
        )
    buyer = found[0]
    order = None
    for no in ORDER_NO.findall(mail.subject):
        order = Order.objects.filter(no__iexact=no, buyer=buyer).first()
        if order is not None:
            break
    conversation = services.conversation_for(buyer=buyer, order=order)
    message = services.post_from_channel(
        conversation_id=conversation.pk,
        buyer=buyer,
        body=message_body(mail),
        client_id=client_id(mail),
        channel=Channel.EMAIL,
        urgent=bool(URGENT.search(mail.subject)),
        quiet=True,  # a person answers this one
    )
    services.post_message(
        conversation_id=conversation.pk,
        author=agent,
        body=_("已核实发件人 %(sender)s 为本会话买家（由客服 %(no)s 核实）。")
        % {"sender": mail.sender, "no": agent.agent_no or agent},
        internal=True,
    )
    mail.conversation, mail.state = conversation, S.FILED
    if not InboundMail.objects.filter(message=message).exists():
        mail.message = message
    mail.reviewed_by, mail.reviewed_at = agent, timezone.now()
    mail.save()
    return mail
