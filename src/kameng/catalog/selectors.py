from django.db.models import Count, Q

from kameng.inventory.models import CardKeyStatus

from .models import Product, Seller


def listed_products():
    return (
        Product.objects.filter(is_active=True, seller__is_active=True)
        .select_related("seller")
        .annotate(free_keys=Count("card_keys", filter=Q(card_keys__status=CardKeyStatus.AVAILABLE)))
        .order_by("kind", "price", "id")
    )


def seller_of(user) -> Seller | None:
    """The shop this user runs, if any."""
    return Seller.objects.filter(owner=user).first()
