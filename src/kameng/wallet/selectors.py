from .models import Posting
from .services import buyer_code


def buyer_history(user, limit: int = 100):
    return (
        Posting.objects.filter(account__code=buyer_code(user.pk))
        .select_related("transaction")
        .order_by("-transaction__created_at", "-id")[:limit]
    )
