"""What the tick hands to the workers: due deadlines, unfinished gateway refunds, supplier re-checks.

Each query reads an index (open deadlines by due time; payouts by status), so the tick's cost
follows what is due, not how many cases are open. Cases waiting on the supplier are polled through
their own timer rows (TimerKind.SUPPLIER_POLL), not by scanning every waiting case on each tick.
"""

from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .actions.payout import enqueue_attempt
from .actions.timers import fire_timer_task
from .models import Payout, RefundTo, Timer

BATCH = 200
REENQUEUE_AFTER = timedelta(minutes=2)


def enqueue_due(now=None) -> int:
    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            Timer.objects.filter(done_at__isnull=True, due_at__lte=now)
            .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=now - REENQUEUE_AFTER))
            .order_by("due_at")[:BATCH]
        )
        Timer.objects.filter(pk__in=[d.pk for d in due]).update(enqueued_at=now)
    for d in due:
        fire_timer_task.enqueue(d.pk)
    # Unfinished gateway refunds, each once per attempt with backoff (see payout.enqueue_attempt).
    # A row without next_attempt_at predates the backoff: due once it is 10 s old, as before.
    retry = Payout.objects.filter(
        status__in=[Payout.Status.FAILED, Payout.Status.PENDING], method=RefundTo.ORIGINAL
    ).filter(
        Q(next_attempt_at__lte=now)
        | Q(next_attempt_at__isnull=True, created_at__lt=now - timedelta(seconds=10))
    )
    for payout in retry.order_by("next_attempt_at")[:BATCH]:
        enqueue_attempt(payout, now=now)
    return len(due)
