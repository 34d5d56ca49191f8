"""Who gets a conversation when it joins the line (SPEC §8: assignment by skill and load).

The least-loaded online agent with a skill for the conversation's goods kind and channel takes it,
as long as they hold fewer than `SUPPORT_AGENT_CAP` conversations; nobody fits → it waits in the
queue. Routing is opt-in: only agents with at least one `AgentSkill` row are routed to.

Race safety: the chosen agent's `Presence` row is locked before their load is counted, so two
conversations queued at the same moment cannot both push one agent over the cap (on PostgreSQL the
second waits for the lock, then counts the first one's conversation).
"""

from django.conf import settings
from django.db.models import Count, OuterRef, Q, Subquery
from django.utils import timezone

from kameng.accounts.models import Role

from .models import AgentSkill, AuthorKind, Conversation, ConversationState, Message, Presence
from .wait import ONLINE_WINDOW

# Who may be handed a conversation (a skill row given to anyone else is ignored).
ROUTED_ROLES = [str(Role.AGENT), str(Role.SUPERVISOR)]


def agent_cap() -> int:
    return settings.SUPPORT_AGENT_CAP


def buyer_channel(conversation_field: str = "pk"):
    """The channel of the buyer's latest message (a subquery on the outer query's
    `conversation_field`): where the buyer is talking from."""
    return Subquery(
        Message.objects.filter(conversation=OuterRef(conversation_field), author_kind=AuthorKind.BUYER)
        .order_by("-id")
        .values("channel")[:1]
    )


def channel_of(conversation: Conversation) -> str:
    last = (
        Message.objects.filter(conversation=conversation, author_kind=AuthorKind.BUYER)
        .order_by("-id")
        .values_list("channel", flat=True)
        .first()
    )
    return last or "web"


def skill_matches(*, goods_kind: str, channel: str) -> Q:
    """AgentSkill rows that cover a conversation about `goods_kind` ("" for a general one) by `channel`."""
    kind = Q(goods_kind="") | Q(goods_kind=goods_kind) if goods_kind else Q()
    return kind & (Q(channel="") | Q(channel=channel))


def conversations_for_skills(skills: list[AgentSkill]) -> Q:
    """Conversations (annotated with `via`, the buyer's channel) that any of `skills` covers; no
    skills: any conversation (someone without skills may take anything by hand)."""
    if not skills:
        return Q()
    covered = Q(pk__in=[])
    for skill in skills:
        kind = Q(order__isnull=True) | Q(order__kind=skill.goods_kind) if skill.goods_kind else Q()
        via = Q(via=skill.channel) if skill.channel else Q()
        covered |= kind & via
    return covered


def loads(agent_ids) -> dict[int, int]:
    """How many conversations each agent holds now."""
    rows = (
        Conversation.objects.filter(state=ConversationState.WITH_AGENT, agent_id__in=agent_ids)
        .values("agent_id")
        .annotate(n=Count("id"))
    )
    return {row["agent_id"]: row["n"] for row in rows}


def pick_agent(conversation: Conversation, *, now=None):
    """The agent who should take `conversation` now, or None. Locks the chosen agent's presence
    row (the caller's transaction holds it) so the cap holds under concurrency."""
    now = now or timezone.now()
    goods_kind = conversation.order.kind if conversation.order_id else ""
    skilled = (
        AgentSkill.objects.filter(skill_matches(goods_kind=goods_kind, channel=channel_of(conversation)))
        .filter(
            agent__is_active=True,
            agent__groups__name__in=ROUTED_ROLES,
            agent__presence__status=Presence.Status.ONLINE,
            agent__presence__seen_at__gte=now - ONLINE_WINDOW,
        )
        .exclude(agent_id=conversation.buyer_id)
        .values_list("agent_id", flat=True)
        .distinct()
    )
    candidates = list(skilled)
    if not candidates:
        return None
    held = loads(candidates)
    cap = agent_cap()
    for agent_id in sorted(candidates, key=lambda pk: (held.get(pk, 0), pk)):
        if held.get(agent_id, 0) >= cap:
            break
        presence = (
            Presence.objects.select_for_update().select_related("user").filter(user_id=agent_id).first()
        )
        if presence is None:
            continue
        if loads([agent_id]).get(agent_id, 0) < cap:  # counted again under the lock
            return presence.user
    return None
