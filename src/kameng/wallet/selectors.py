from django.db.models import OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce

from .models import AccountKind, Posting, Transaction
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


# The accounts that hold an order's money for it: its escrow, then its payee (a seller, or platform
# revenue) after settlement. Their postings referencing the order add up to Refundable.total.
HOLDING_KINDS = (AccountKind.ESCROW, AccountKind.SELLER, AccountKind.REVENUE)


def money_left(*, reference: str) -> int:
    """What the holding accounts still hold for the order numbered `reference`. One query."""
    found = Posting.objects.filter(transaction__reference=reference, account__kind__in=HOLDING_KINDS)
    return found.aggregate(total=Sum("amount"))["total"] or 0


def money_left_of_orders():
    """`money_left` as an expression annotating order rows (a page of orders in one query)."""
    found = (
        Posting.objects.filter(transaction__reference=OuterRef("no"), account__kind__in=HOLDING_KINDS)
        .order_by()
        .values("transaction__reference")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return Coalesce(Subquery(found), 0)


def posted_keys(keys) -> set[str]:
    """Which of these idempotency keys name a transaction already in the ledger. One query."""
    return set(Transaction.objects.filter(key__in=list(keys)).values_list("key", flat=True))
