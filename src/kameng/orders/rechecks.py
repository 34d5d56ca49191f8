"""When an unknown top-up is asked about again: a backoff per delivery, and the tick's claim of the
ones that are due (each handed over once, even while the worker is down or behind)."""

from datetime import timedelta

from django.db.models import Q

from .models import Delivery, DeliveryStatus

RECHECK_FIRST = timedelta(seconds=10)
RECHECK_MAX = timedelta(hours=1)


def recheck_delay(attempts: int) -> timedelta:
    """How long after its `attempts`-th question an unknown top-up is asked about again."""
    return min(RECHECK_FIRST * 2 ** min(max(attempts - 1, 0), 16), RECHECK_MAX)


def due_topup_rechecks(now, *, limit: int = 100) -> list[int]:
    """The orders whose unknown top-up is due for another question, each claimed once: its next
    check is pushed out by the backoff before it is handed over, so a worker that is down or behind
    is not handed the same question on every tick."""
    due = Delivery.objects.filter(status=DeliveryStatus.UNKNOWN).filter(
        Q(next_check_at__lte=now) | Q(next_check_at__isnull=True)
    )
    claimed = []
    for pk, order_id, attempts, next_check_at in due.order_by("next_check_at").values_list(
        "pk", "order_id", "attempts", "next_check_at"
    )[:limit]:
        if Delivery.objects.filter(pk=pk, next_check_at=next_check_at).update(
            next_check_at=now + recheck_delay(attempts + 1)
        ):
            claimed.append(order_id)
    return claimed
