"""Live delivery of the chat (Django Channels): what the services announce after their commit, and how
a message looks on the wire. Every conversation has two groups: the buyer's side, which never hears
an internal note, and the staff side. Whatever creates a Message (the web chat, email, WeChat, a
logged call, the system) announces it here, so every open page shows it without a reload.

An announcement leaves after the commit (`transaction.on_commit`); a page that was not connected at
that moment, or a layer that was down, loses nothing: the page resumes from the last id it shows
(`hello` with `after`, or the polling URL), reading the database."""

import logging
from datetime import datetime

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kameng.safety.masking import shown_to
from kameng.sentences import say

from .attachments import as_item
from .models import AuthorKind, Channel, ConversationState, Message

logger = logging.getLogger(__name__)


def buyer_group(conversation_id: int) -> str:
    return f"support.c{conversation_id}.buyer"


def staff_group(conversation_id: int) -> str:
    return f"support.c{conversation_id}.staff"


def message_event(message: Message) -> dict:
    """A message as it travels between processes: raw values, rendered by each reader in their own
    language (a system sentence is a sentence, not a Chinese string)."""
    author = message.author if message.author_id and message.author_kind == AuthorKind.AGENT else None
    return {
        "id": message.pk,
        "client_id": message.client_id,
        "author_id": message.author_id,
        "author": message.author_kind,
        "agent_no": (author.agent_no or "") if author else "",
        "body": message.body,
        "said": message.said,
        "link": message.link,
        "internal": message.internal,
        "channel": message.channel,
        "at": message.created_at.isoformat(),
        "read": message.read_at is not None,
        "attachments": [as_item(a) for a in message.attachments.all()],
    }


def message_frame(event: dict, *, viewer_id: int | None) -> dict:
    """The `message` frame a page receives: the fields of the page's transcript, in the active language."""
    return {
        "type": "message",
        "id": event["id"],
        "client_id": event["client_id"],
        "author": event["author"],
        "author_label": str(AuthorKind(event["author"]).label),
        "agent_no": event["agent_no"],
        # A person's words reach everyone but their author with secrets masked (SPEC §9).
        "text": say(event["said"])
        if event["said"]
        else shown_to(event["body"], author_is_viewer=event.get("author_id") == viewer_id),
        "link": event["link"],
        "internal": event["internal"],
        "channel": str(Channel(event["channel"]).label),
        "via": str(Channel(event["channel"]).label) if event["channel"] not in ("web", "system") else "",
        "attachments": event.get("attachments", []),
        "at": event["at"],
        "at_shown": shown_time(event["at"]),
        "read": event["read"],
    }


def shown_time(iso: str) -> str:
    """As the page prints times (the `local` filter): Asia/Shanghai, to the minute."""
    return timezone.localtime(datetime.fromisoformat(iso)).strftime("%Y-%m-%d %H:%M")


def state_frame(state: str) -> dict:
    return {"type": "state", "state": state, "label": str(ConversationState(state).label)}


def send(groups: list[str], event: dict) -> None:
    """Send now; a layer that is down costs one log line, never the caller's request."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        for group in groups:
            async_to_sync(layer.group_send)(group, event)
    except Exception as e:  # whatever the layer raises, the commit already happened
        logger.warning("live chat: could not announce %s to %s: %r", event.get("type"), groups, e)


def announce_message(message: Message) -> None:
    """After the commit, every open page of the conversation shows `message` (staff only for a note)."""
    event = {"type": "chat.message", "message": message_event(message)}
    groups = [staff_group(message.conversation_id)]
    if not message.internal:
        groups.append(buyer_group(message.conversation_id))
    transaction.on_commit(lambda: send(groups, event))


def announce_state(conversation) -> None:
    event = {"type": "chat.state", "state": conversation.state}
    groups = [buyer_group(conversation.pk), staff_group(conversation.pk)]
    transaction.on_commit(lambda: send(groups, event))


def announce_read(conversation, *, by: str, up_to: int) -> None:
    """The `by` side ("buyer" or "agent") has read the other side's messages up to `up_to`."""
    event = {"type": "chat.read", "by": by, "up_to": up_to}
    groups = [buyer_group(conversation.pk), staff_group(conversation.pk)]
    transaction.on_commit(lambda: send(groups, event))


def typing_text(who: str) -> str:
    """`who` is "buyer", an agent's 工号, or another name a staff member goes by."""
    if who == AuthorKind.BUYER:
        return _("买家正在输入…")
    if not who:
        return _("客服正在输入…")
    return _("客服 %(no)s 正在输入…") % {"no": who}
