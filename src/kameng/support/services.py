"""The only place that changes conversations: open one, post a message (once, even when the sender
retries), ask for a person, claim, close, mark read, say whether an agent is online. Each function
is one transaction and locks the conversation row before it changes it."""

from collections.abc import Sequence
from email.utils import make_msgid

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from kameng.accounts.models import Role
from kameng.accounts.permissions import has_role
from kameng.orders.models import Order
from kameng.safety import scam
from kameng.sentences import Sentence, stored

from . import attachments as files
from . import bot, canned, live, routing, wait
from .models import (
    AuthorKind,
    Channel,
    Conversation,
    ConversationState,
    InboundMail,
    Message,
    OutboundMail,
    Presence,
)
from .wechat import outbox as wechat_outbox

# How much one message may hold; the form says the same (maxlength).
MESSAGE_MAX = 2000
CLIENT_ID_MAX = 64
# Who answers buyers: agents and supervisors (admins too); finance does not sit in the chat queue.
ANSWERING_ROLES = (Role.AGENT, Role.SUPERVISOR, Role.ADMIN)
S = ConversationState


class SupportError(Exception):
    """A request refused; the message is for the person, in their language."""


BEFORE_SENDING = gettext_lazy(
    "您要发送的内容里像是有验证码、密码或银行卡号。卡盟客服绝不会索要这些信息，也不会要求转账、"
    "交保证金或加私人微信。如确需发送，请勾选“仍要发送”后再发。"
)


class NeedsConfirmation(SupportError):
    """A buyer is about to send what looks like a code, a password or a card number: they are told
    what the platform never asks for and send it only if they confirm (SPEC §9)."""


def may_answer(user) -> bool:
    return has_role(user, *ANSWERING_ROLES)


def conversation_for(*, buyer, order: Order | None = None) -> Conversation:
    """The buyer's conversation about `order` (or their general one), opened on first use."""
    if order is not None and order.buyer_id != buyer.pk:
        raise SupportError(_("订单不存在。"))
    found = Conversation.objects.filter(buyer=buyer, order=order).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return Conversation.objects.create(buyer=buyer, order=order, last_message_at=timezone.now())
    except IntegrityError:  # opened by a second tab at the same moment
        return Conversation.objects.get(buyer=buyer, order=order)


def lock_conversation(conversation_id: int) -> Conversation:
    conversation = (
        Conversation.objects.select_for_update(of=("self",))
        .select_related("order")
        .filter(pk=conversation_id)
        .first()
    )
    if conversation is None:
        raise SupportError(_("会话不存在。"))
    return conversation


def _author_kind(conversation: Conversation, user) -> str:
    if user.pk == conversation.buyer_id:
        return AuthorKind.BUYER
    if may_answer(user):
        return AuthorKind.AGENT
    raise SupportError(_("会话不存在。"))


def check_body(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise SupportError(_("请输入内容。"))
    if len(body) > MESSAGE_MAX:
        raise SupportError(
            _("一条消息最多 %(n)d 字，现在是 %(m)d 字，请分几条发送（内容没有发出）。")
            % {"n": MESSAGE_MAX, "m": len(body)}
        )
    return body


@transaction.atomic
def post_message(
    *,
    conversation_id: int,
    author,
    body: str,
    client_id: str = "",
    internal: bool = False,
    channel: str = Channel.WEB,
    attachments: Sequence[files.Checked] = (),
    confirmed: bool = True,
) -> Message:
    """Add a person's message, with the files already checked by `attachments.check_all` (outside
    the lock: re-encoding an image takes time). A retry with the same `client_id` returns the message
    already stored. A buyer's message in self-service is answered from the facts when the platform
    knows the answer."""
    client_id = (client_id or "").strip()[:CLIENT_ID_MAX]
    conversation = lock_conversation(conversation_id)
    kind = _author_kind(conversation, author)
    state_before = conversation.state
    if client_id:
        existing = conversation.messages.filter(client_id=client_id).first()
        if existing is not None:
            return existing
    body = check_body(body) if body.strip() or not attachments else ""
    if internal and kind != AuthorKind.AGENT:
        raise SupportError(_("只有客服可以写内部备注。"))
    verdict = scam.check(body, sender="buyer") if kind == AuthorKind.BUYER and body else None
    if verdict is not None and verdict.verdict != "pass" and not confirmed:
        raise NeedsConfirmation(BEFORE_SENDING)
    if kind == AuthorKind.AGENT and not internal:
        left = canned.unfilled(body)
        if left:
            raise SupportError(
                _("回复里还有未填写的变量 %(v)s，请改成实际内容后再发送（内容没有发出）。")
                % {"v": " ".join(left)}
            )
        _take_over(conversation, author)
    now = timezone.now()
    message = Message.objects.create(
        conversation=conversation,
        client_id=client_id,
        channel=channel,
        author_kind=kind,
        author=author,
        internal=internal,
        body=body,
    )
    for checked in attachments:
        files.store(message=message, checked=checked)
    if verdict is not None:
        scam.log_hit(verdict, source="support.message", source_id=message.pk)  # sent after a warning
    if kind == AuthorKind.AGENT and not internal:
        mail_reply(conversation, message)
    live.announce_message(message)  # before the answers it gets, so pages receive them in order
    conversation.last_message_at = now
    said = [message]  # what the buyer is told back (an agent's reply, the bot's answer)
    if kind == AuthorKind.BUYER:
        if conversation.state == S.CLOSED:
            conversation.state, conversation.closed_at, conversation.agent = S.SELF_SERVICE, None, None
        if bot.wants_person(body) and conversation.state == S.SELF_SERVICE:
            said.append(_queue(conversation, now))
        elif conversation.state == S.SELF_SERVICE and body:
            reply = bot.answer(conversation, body)
            said.append(system_message(conversation, reply.sentence, link=reply.link))
    conversation.save()
    # The buyer who wrote by WeChat is answered there too (kept as an outbox row, sent after commit).
    wechat_outbox.relay(conversation=conversation, messages=said)
    if conversation.state != state_before:
        live.announce_state(conversation)
    return message


def _take_over(conversation: Conversation, agent) -> None:
    """An agent answering a conversation holds it (nobody else's to take over silently)."""
    if conversation.state == S.WITH_AGENT and conversation.agent_id not in (None, agent.pk):
        raise SupportError(
            _("客服 %(no)s 正在处理这个会话；请先请其转交。")
            % {"no": conversation.agent.agent_no or conversation.agent}
        )
    if conversation.state != S.WITH_AGENT or conversation.agent_id is None:
        conversation.state, conversation.agent, conversation.claimed_at = S.WITH_AGENT, agent, timezone.now()
        system_message(
            conversation, Sentence(gettext_noop("客服 %(no)s 为您服务。"), no=agent.agent_no or "")
        )


def system_message(conversation: Conversation, sentence: Sentence, *, link: str = "") -> Message:
    message = Message.objects.create(
        conversation=conversation,
        channel=Channel.SYSTEM,
        author_kind=AuthorKind.SYSTEM,
        said=stored(sentence),
        link=link,
    )
    live.announce_message(message)
    return message


def _queue(conversation: Conversation, now) -> Message:
    conversation.state, conversation.queued_at = S.QUEUED, now
    estimate = wait.estimate(conversation)
    message = system_message(conversation, estimate.sentence())
    agent = routing.pick_agent(conversation, now=now)
    if agent is not None:
        _take_over(conversation, agent)
    return message


@transaction.atomic
def ask_for_person(*, conversation_id: int, buyer) -> Conversation:
    """转人工: always possible, one tap. A conversation already queued or with an agent stays as it is."""
    conversation = lock_conversation(conversation_id)
    if conversation.buyer_id != buyer.pk:
        raise SupportError(_("会话不存在。"))
    if conversation.state in (S.SELF_SERVICE, S.CLOSED):
        conversation.agent, conversation.closed_at = None, None
        _queue(conversation, timezone.now())
        conversation.save()
        live.announce_state(conversation)
    return conversation


@transaction.atomic
def claim(*, conversation_id: int, agent) -> Conversation:
    if not may_answer(agent):
        raise SupportError(_("只有客服可以接待会话。"))
    conversation = lock_conversation(conversation_id)
    if conversation.buyer_id == agent.pk:
        raise SupportError(_("您是这个会话的买家，不能自己接待；请由其他客服处理。"))
    if conversation.state == S.CLOSED:
        raise SupportError(_("会话已结束。"))
    state_before = conversation.state
    _take_over(conversation, agent)
    conversation.save()
    if conversation.state != state_before:
        live.announce_state(conversation)
    return conversation


@transaction.atomic
def close(*, conversation_id: int, user) -> Conversation:
    conversation = lock_conversation(conversation_id)
    kind = _author_kind(conversation, user)
    if conversation.state == S.CLOSED:
        return conversation
    if kind == AuthorKind.AGENT and conversation.agent_id not in (None, user.pk):
        raise SupportError(_("这个会话由其他客服处理。"))
    conversation.state, conversation.closed_at = S.CLOSED, timezone.now()
    system_message(conversation, Sentence(gettext_noop("会话已结束。如还有问题，直接发送消息即可继续。")))
    conversation.save()
    live.announce_state(conversation)
    return conversation


def mark_read(*, conversation: Conversation, reader, up_to: int | None = None) -> int:
    """The messages the other side sent (up to the id `up_to` when given) are read now; returns how
    many were newly read. The other side's open pages show 已读 on them."""
    others = conversation.messages.filter(read_at__isnull=True, internal=False)
    by = AuthorKind.BUYER if reader.pk == conversation.buyer_id else AuthorKind.AGENT
    if by == AuthorKind.BUYER:
        others = others.exclude(author_kind=AuthorKind.BUYER)
    else:
        others = others.filter(author_kind=AuthorKind.BUYER)
    if up_to is not None:
        others = others.filter(pk__lte=up_to)
    last = others.aggregate(last=Max("pk"))["last"]
    if last is None:
        return 0
    read = others.filter(pk__lte=last).update(read_at=timezone.now())
    if read:
        live.announce_read(conversation, by=by, up_to=last)
    return read


def set_presence(*, agent, status: str = Presence.Status.ONLINE) -> Presence:
    """An agent on the workspace is online (seen now); `away` takes them out of the estimate."""
    presence, _created = Presence.objects.update_or_create(
        user=agent, defaults={"status": status, "seen_at": timezone.now()}
    )
    return presence


# How much of a mail's text one message keeps (the whole mail stays in InboundMail.raw).
CHANNEL_MESSAGE_MAX = 20_000


@transaction.atomic
def post_from_channel(
    *,
    conversation_id: int,
    buyer,
    body: str,
    client_id: str,
    channel: str,
    urgent: bool = False,
    quiet: bool = False,
) -> Message:
    """A buyer's message that came by another channel (an email), stored once per `client_id` and as
    long as the channel delivered it. `urgent` (紧急退款) marks the conversation and puts it in the
    queue for a person; `quiet` (a flood of mail) stores it without the bot answering."""
    conversation = lock_conversation(conversation_id)
    if conversation.buyer_id != buyer.pk:
        raise SupportError(_("会话不存在。"))
    existing = conversation.messages.filter(client_id=client_id).first() if client_id else None
    if existing is not None:
        return existing
    body = (body or "").strip()[:CHANNEL_MESSAGE_MAX]
    now = timezone.now()
    message = Message.objects.create(
        conversation=conversation,
        client_id=client_id[:CLIENT_ID_MAX],
        channel=channel,
        author_kind=AuthorKind.BUYER,
        author=buyer,
        body=body,
    )
    conversation.last_message_at = now
    if conversation.state == S.CLOSED:
        conversation.state, conversation.closed_at, conversation.agent = S.SELF_SERVICE, None, None
    if urgent:
        conversation.urgent = True
    if conversation.state == S.SELF_SERVICE and (urgent or bot.wants_person(body)):
        _queue(conversation, now)
    elif conversation.state == S.SELF_SERVICE and not quiet:
        reply = bot.answer(conversation, body)
        mail_reply(conversation, system_message(conversation, reply.sentence, link=reply.link))
    conversation.save()
    return message


def answered_mail(conversation: Conversation) -> InboundMail | None:
    """The buyer's mail a public answer now would reply to by email: their latest, when their last
    message came by email and was not part of a flood; None otherwise."""
    last = conversation.messages.filter(author_kind=AuthorKind.BUYER).order_by("-id").only("channel").first()
    if last is None or last.channel != Channel.EMAIL:
        return None
    mail = (
        conversation.inbound_mails.exclude(state=InboundMail.State.DUPLICATE)
        .defer("raw")
        .order_by("-id")
        .first()
    )
    return mail if mail is not None and mail.sender and not mail.throttled else None


def mail_reply(conversation: Conversation, message: Message) -> OutboundMail | None:
    """A public answer goes out by email too when the buyer's last message came by email: the outbox
    row is written in this transaction and sent after commit (kameng.support.mail.outbound)."""
    mail = answered_mail(conversation)
    if mail is None:
        return None
    subject = mail.subject or str(conversation)
    references = " ".join(dict.fromkeys([*mail.references_list(), mail.msgid]))
    return OutboundMail.objects.create(
        message=message,
        conversation=conversation,
        to_address=mail.sender,
        subject=(subject if subject.lower().startswith("re:") else f"Re: {subject}")[:500],
        msgid=make_msgid(domain=settings.SUPPORT_MAIL_DOMAIN),
        in_reply_to=mail.msgid,
        references=references.strip(),
        next_attempt_at=timezone.now(),
    )
