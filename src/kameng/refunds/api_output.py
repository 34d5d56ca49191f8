"""A refund case as the API answers it: the brief line of a list, the head of its page, and the
whole case with its timeline (every reader gets the same words the pages show)."""

from django.utils.translation import gettext as _

from kameng.choices import label
from kameng.sentences import say

from . import selectors
from .models import Holder, RefundCase, Stage
from .progress import appealed_by, as_data, progress


def brief(case: RefundCase) -> dict:
    return {
        "id": case.pk,
        "order_no": case.order.no,
        "product": case.order.product.name,
        "kind": case.order.kind,
        "reason": case.reason,
        "demand": case.demand,
        "stage": case.stage,
        "stage_label": label(Stage, case.stage),
        "holder": case.holder,
        "holder_agent_no": case.holder_user.agent_no if case.holder_user_id else None,
        "deadline_at": case.deadline_at,
        "deadline_action": case.if_no_action,
        "amount_requested": case.amount_requested,
        "amount_approved": case.amount_approved,
        "created_at": case.created_at,
    }


def head(case: RefundCase, attachments) -> dict:
    """The case as the head of its page states it: stage, holder, deadline, money, clause, path."""
    shown = progress(case)
    return {
        **brief(case),
        "holder_label": label(Holder, case.holder),
        "stage_reason": case.why,
        "refund_to": case.refund_to,
        "decision_clause": case.decision_clause,
        "closed_at": case.closed_at,
        "path": [{**step, "label": str(step["label"])} for step in shown["steps"]],
        "progress": as_data(shown),
        "appeal_until": case.appeal_until,
        "appealed_by": appealed_by(case),
        "attachments": [
            {
                "id": a.pk,
                "item": a.item,
                "name": a.original_name,
                "content_type": a.content_type,
                "size": a.size,
                "sha256": a.sha256,
                "uploaded_by": (
                    str(_("买家"))
                    if a.uploaded_by_id == case.buyer_id
                    else str(_("卖家"))
                    if a.uploaded_by_id == case.seller.owner_id
                    else a.uploaded_by.public_name
                    if a.uploaded_by.agent_no
                    else str(_("平台"))  # staff are shown by 工号, never by a private name
                ),
                "created_at": a.created_at,
            }
            for a in attachments
        ],
    }


def render(case: RefundCase, events, attachments) -> dict:
    return {
        **head(case, attachments),
        "description": case.description,
        "statement": case.statement,
        "facts": {**case.facts, "verified": say(case.facts.get("verified"))},
        "decision_note": case.decision_note,
        "seller": case.seller.name,
        "seller_offer": case.seller_offer,
        "seller_offer_amount": case.seller_offer_amount,
        "channel": case.channel,
        "timeline": [
            {
                "seq": e.seq,
                "kind": e.kind,
                "at": e.created_at,
                "actor": str(selectors.actor_label(e, case)),
                "text": str(selectors.event_sentence(e, case)),
                "clause": e.clause,
                "data": e.data,
            }
            for e in events
        ],
    }
