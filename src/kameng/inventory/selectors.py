from django.db.models import Count, Q

from .models import CardKey, CardKeyStatus


def available_keys(product_id: int) -> int:
    """How many keys of the product are free to sell."""
    return CardKey.objects.filter(product_id=product_id, status=CardKeyStatus.AVAILABLE).count()


def has_available_keys(product_id: int) -> bool:
    return CardKey.objects.filter(product_id=product_id, status=CardKeyStatus.AVAILABLE).exists()


def stock_by_batch(product_ids) -> list[dict]:
    """Counts of keys per product and batch, in one query; never a secret. Each row: product_id,
    batch, on_sale, sold, revoked, redeemed, quarantined, total."""
    return list(
        CardKey.objects.filter(product_id__in=product_ids)
        .values("product_id", "batch")
        .annotate(
            on_sale=Count("id", filter=Q(status=CardKeyStatus.AVAILABLE)),
            sold=Count("id", filter=Q(status=CardKeyStatus.ASSIGNED)),
            revoked=Count("id", filter=Q(status=CardKeyStatus.REVOKED)),
            quarantined=Count("id", filter=Q(status=CardKeyStatus.QUARANTINED)),
            redeemed=Count("id", filter=Q(redeemed=True)),
            total=Count("id"),
        )
        .order_by("product_id", "-batch")
    )
