"""The messages of a refund case's order, for the case page's timeline (kameng.refunds.case_hooks),
registered in SupportConfig.ready()."""

from django.utils.translation import gettext as _

from kameng.refunds import case_hooks

from .models import AuthorKind, Message

LIMIT = 200  # the newest; the conversation page has them all


def case_messages(case, audience: case_hooks.Audience) -> list[dict]:
    """The case buyer's conversation about the case's order: public messages for the buyer, internal
    notes too for staff. Nobody else's conversation about the same order is read."""
    qs = Message.objects.filter(
        conversation__order_id=case.order_id, conversation__buyer_id=case.buyer_id
    ).select_related("author")
    if audience != "staff":
        qs = qs.filter(internal=False)
    messages = list(qs.order_by("-id")[:LIMIT])
    messages.reverse()
    return [
        {
            "at": m.created_at,
            "actor": author_label(m, viewer_is_buyer=audience == "buyer"),
            "text": m.text_for(case.buyer_id if audience == "buyer" else None),
            "clause": "",
            "kind": "message",
            "channel": m.get_channel_display(),
            "internal": m.internal,
            "link": m.link,
        }
        for m in messages
    ]


def author_label(m: Message, *, viewer_is_buyer: bool) -> str:
    if m.author_kind == AuthorKind.BUYER:
        return _("我") if viewer_is_buyer else _("买家")
    if m.author_kind == AuthorKind.AGENT and m.author is not None:
        return m.author.public_name
    return m.get_author_kind_display()


def register() -> None:
    case_hooks.provide_case_messages(case_messages)
