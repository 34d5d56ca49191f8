"""What the agent sees beside a conversation (the workspace): the order, its payments and the facts
of its delivery. Card keys are described by when they were assigned and first revealed, never by
the key itself (SPEC §9: staff never need the secret to help)."""

from kameng.catalog.models import GoodsKind
from kameng.inventory.models import CardKey
from kameng.orders.models import Delivery
from kameng.payments.models import Payment

from .models import Conversation


def facts(conversation: Conversation) -> dict:
    order = conversation.order if conversation.order_id else None
    if order is None:
        return {"order": None, "payments": [], "delivery": None, "keys": []}
    delivery = Delivery.objects.filter(order=order).first()
    keys = []
    if order.kind == GoodsKind.CARD_KEY:
        keys = list(
            CardKey.objects.filter(order=order)
            .order_by("assigned_at", "id")
            .values("pk", "status", "assigned_at", "viewed_at", "redeemed")
        )
    return {
        "order": order,
        "payments": Payment.objects.filter(order=order).order_by("created_at", "id"),
        "delivery": delivery,
        "keys": keys,
    }
