"""Reads of conversations shared by the pages and the API."""

from django.http import Http404

from kameng.accounts.permissions import is_staff_member

from .models import Conversation, ConversationState, Message


def conversations():
    return Conversation.objects.select_related("buyer", "order", "order__product", "agent")


def buyer_conversation(conversation_id: int, user) -> Conversation:
    """The buyer's own conversation; anyone else's answers 404 (ids leak nothing)."""
    conversation = conversations().filter(pk=conversation_id, buyer=user).first()
    if conversation is None:
        raise Http404
    return conversation


def staff_conversation(conversation_id: int, user) -> Conversation:
    if not is_staff_member(user):
        raise Http404
    conversation = conversations().filter(pk=conversation_id).first()
    if conversation is None:
        raise Http404
    return conversation


def messages_of(conversation: Conversation, *, for_staff: bool, after: int = 0):
    """The transcript in order; internal notes only for staff; `after` resumes from the last seen id."""
    qs = (
        Message.objects.filter(conversation=conversation, pk__gt=after)
        .select_related("author")
        .prefetch_related("attachments")
    )
    if not for_staff:
        qs = qs.filter(internal=False)
    return qs.order_by("id")


def of_buyer(user):
    return conversations().filter(buyer=user).order_by("-last_message_at", "-id")


def queue():
    """Waiting for a person, oldest first (urgent marks first); then the ones agents hold."""
    waiting = conversations().filter(state=ConversationState.QUEUED).order_by("-urgent", "queued_at", "id")
    held = conversations().filter(state=ConversationState.WITH_AGENT).order_by("agent_id", "-last_message_at")
    return waiting, held
