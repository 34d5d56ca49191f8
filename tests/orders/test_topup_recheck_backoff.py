"""An unknown direct top-up is asked about again with backoff, once per attempt: the tick does not
hand the same question to the workers every 5 s forever (each hand-over logs two worker lines)."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from freezegun import freeze_time

from kameng.catalog.models import GoodsKind
from kameng.ops.tick import tick
from kameng.orders.services import place_order
from tests import factories as f

# The real worker closes its connection when done: that needs a test outside one transaction.
pytestmark = pytest.mark.django_db(transaction=True)


def _queued() -> int:
    return DBTaskResult.objects.filter(task_path__endswith="retry_delivery_task").count()


def test_the_tick_asks_about_an_unknown_top_up_once_per_attempt_with_backoff(drain_tasks):
    buyer = f.buyer(balance=100_00)
    product = f.product(kind=GoodsKind.DIRECT_TOPUP, price=10_00)
    place_order(buyer=buyer, product=product, target_account="unknown-7")
    start = timezone.now()

    # the worker is down: ticks every 5 s for a minute hand the question over a few times, not 12
    for i in range(12):
        tick(start + timedelta(seconds=5 * (i + 1)))
    handed = _queued()
    assert 1 <= handed <= 4

    # 20 minutes of ticks with the worker running: the gaps grow, so far fewer than 240 questions
    drain_tasks()
    for i in range(240):
        with freeze_time(start + timedelta(minutes=1, seconds=5 * i)):
            if tick()["topups_rechecked"]:
                drain_tasks()
    assert _queued() - handed <= 10
