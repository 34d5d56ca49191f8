from django.db.models import Sum

from .models import Posting
from .services import buyer_code


def buyer_history(user, limit: int = 100):
    return (
        Posting.objects.filter(account__code=buyer_code(user.pk))
        .select_related("transaction")
        .order_by("-transaction__created_at", "-id")[:limit]
    )


def sums_by_account(*, reference: str, codes: list[str]) -> dict[str, int]:
    """What the postings of transactions referencing `reference` add up to, per account code
    (codes with no posting are left out). One query."""
    return dict(
        Posting.objects.filter(transaction__reference=reference, account__code__in=codes)
        .values("account__code")
        .annotate(total=Sum("amount"))
        .values_list("account__code", "total")
    )
