from django.db.models import BooleanField, Case, Count, Q, Value, When

from kameng.inventory.models import CardKeyStatus

from .models import GoodsKind, Product, Seller


def listed_products():
    return (
        Product.objects.filter(is_active=True, seller__is_active=True)
        .select_related("seller")
        .annotate(free_keys=Count("card_keys", filter=Q(card_keys__status=CardKeyStatus.AVAILABLE)))
        .annotate(
            # 已售罄: no free key (card keys), or a limited stock at zero (other kinds).
            sold_out=Case(
                When(Q(kind=GoodsKind.CARD_KEY, free_keys=0) | Q(stock=0), then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            )
        )
        .order_by("kind", "price", "id")
    )


def seller_of(user) -> Seller | None:
    """The shop this user runs, if any."""
    return Seller.objects.filter(owner=user).first()
