"""The tick hands an unfinished gateway refund to the workers once per attempt, with backoff, so a
worker or gateway that is down cannot grow the queue without bound; money still goes back once
(issue 14, item 4)."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from kameng.payments import sandbox
from kameng.payments.models import GatewayRefund, SandboxRefund
from kameng.refunds.actions.payout import retry_delay
from kameng.refunds.models import Payout, Stage
from kameng.refunds.services import submit_refund
from kameng.refunds.timers import enqueue_due
from kameng.wallet.services import check_ledger
from tests import factories as f
from tests.refunds.helpers import gateway_order

TICK = timedelta(seconds=5)


def refund_tasks() -> int:
    return DBTaskResult.objects.filter(task_path__endswith="gateway_refund_task").count()


def duplicate_payment_case(capture):
    buyer = f.buyer()
    order = gateway_order(buyer, f.product(price=25_00, keys=2), pays=2)
    with capture(execute=True):
        return submit_refund(
            order=order, actor=buyer, reason="duplicate_payment", demand="full_refund", refund_to="original"
        )


def worker(drain_tasks):
    """The worker after a tick: runs whatever was queued (and costs nothing when nothing was)."""

    def run():
        if DBTaskResult.objects.filter(status="READY").exists():
            drain_tasks()

    return run


def ticks(start, seconds: int, after_each=None):
    for n in range(1, seconds // TICK.seconds + 1):
        enqueue_due(now=start + n * TICK)
        if after_each:
            after_each()


def test_the_backoff_doubles_from_ten_seconds_up_to_ten_minutes():
    assert [retry_delay(n).total_seconds() for n in range(1, 9)] == [10, 20, 40, 80, 160, 320, 600, 600]
    assert retry_delay(10_000) == timedelta(minutes=10)


@pytest.mark.django_db
def test_with_the_worker_down_an_hour_of_ticks_queues_no_second_task(django_capture_on_commit_callbacks):
    case = duplicate_payment_case(django_capture_on_commit_callbacks)
    assert refund_tasks() == 1  # the payout's first attempt, handed over when the decision committed

    ticks(timezone.now(), 3600)  # 720 ticks, nobody working the queue

    assert refund_tasks() == 1
    assert Payout.objects.get(case=case).status == Payout.Status.PENDING
    assert check_ledger() == []


# The worker opens its own connection: on PostgreSQL it must see committed data.
@pytest.mark.django_db(transaction=True)
def test_with_the_gateway_down_attempts_back_off_and_the_refund_completes_once_it_is_back(
    drain_tasks, django_capture_on_commit_callbacks
):
    sandbox.sandbox_fail_next_refund(10_000)  # the channel is down
    try:
        case = duplicate_payment_case(django_capture_on_commit_callbacks)
        drain_tasks()
        start = timezone.now()
        # Ten minutes of ticks every 5 s, the worker draining after each: attempts at about
        # +10 s, +30 s, +70 s, +150 s, +310 s (then the next is past +600 s), not 120 of them.
        ticks(start, 600, after_each=worker(drain_tasks))
        assert refund_tasks() <= 1 + 5
        refund = GatewayRefund.objects.get()
        assert refund.status == GatewayRefund.Status.FAILED
        assert refund.attempts == refund_tasks()
    finally:
        sandbox.sandbox_fail_next_refund(0)

    ticks(start + timedelta(seconds=600), 600, after_each=worker(drain_tasks))  # the gateway is back

    case.refresh_from_db()
    assert case.stage == Stage.REFUNDED
    refund = GatewayRefund.objects.get()  # the failed row was kept and its key reused
    assert refund.status == GatewayRefund.Status.SUCCEEDED
    assert SandboxRefund.objects.count() == 1
    assert Payout.objects.get(case=case).status == Payout.Status.SUCCEEDED
    assert check_ledger() == []
    tasks_after = refund_tasks()
    ticks(start + timedelta(seconds=1200), 300, after_each=worker(drain_tasks))
    assert refund_tasks() == tasks_after  # a finished refund is never handed over again
