"""Canned replies filled in for one conversation (SPEC §8). The server fills the variables from the
conversation's facts; the agent edits the text in the reply box and sends it.

A variable the conversation has no value for (a general conversation has no {订单号}), or one this
module does not know ({优惠券}), stays in the text as written, so the agent sees it; an agent's reply
that still holds such a placeholder is refused on send (`services.post_message`), never sent to the
buyer with a hole in it.
"""

import re

from django.utils import timezone

from kameng.money import yuan
from kameng.refunds.models import RefundCase

from .models import CannedReply, Commitment, Conversation

# A placeholder: a short Chinese word in braces, as the admin writes variables.
PLACEHOLDER = re.compile(r"\{[\u4e00-\u9fff]{1,8}\}")
VARIABLES = ("订单号", "金额", "截止时间", "工号", "买家")


def _local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def deadline_of(conversation: Conversation):
    """The deadline the buyer is waiting on: the open refund case's, else the soonest open commitment's."""
    if conversation.order_id:
        case_deadline = (
            RefundCase.objects.filter(order_id=conversation.order_id, is_open=True, deadline_at__isnull=False)
            .values_list("deadline_at", flat=True)
            .first()
        )
        if case_deadline:
            return case_deadline
    return (
        Commitment.objects.filter(conversation=conversation, state=Commitment.State.OPEN)
        .order_by("due_at")
        .values_list("due_at", flat=True)
        .first()
    )


def values_for(conversation: Conversation, agent) -> dict[str, str]:
    """Each variable's value in this conversation; "" where it has none."""
    order = conversation.order if conversation.order_id else None
    deadline = deadline_of(conversation)
    return {
        "订单号": order.no if order else "",
        "金额": yuan(order.amount) if order else "",
        "截止时间": _local(deadline) if deadline else "",
        "工号": agent.agent_no or "",
        "买家": str(conversation.buyer),
    }


def fill(text: str, values: dict[str, str]) -> str:
    """`text` with each known variable that has a value replaced; anything else left as written."""

    def one(match: re.Match) -> str:
        return values.get(match.group(0)[1:-1]) or match.group(0)

    return PLACEHOLDER.sub(one, text)


def unfilled(text: str) -> list[str]:
    """The placeholders still in `text`, in order, each once."""
    return list(dict.fromkeys(PLACEHOLDER.findall(text)))


def replies():
    return CannedReply.objects.filter(is_active=True)


def rendered(conversation: Conversation, agent) -> list[dict]:
    """Every active canned reply filled in for `conversation`, with what is still left to fill."""
    values = values_for(conversation, agent)
    out = []
    for reply in replies():
        text = fill(reply.text, values)
        out.append({"id": reply.pk, "title": reply.title, "text": text, "unfilled": unfilled(text)})
    return out
