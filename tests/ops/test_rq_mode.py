"""Scale-out mode: with KAMENG_REDIS_URL set, the tick hands due deadlines to RQ on a real Redis and
an `rqworker` process fires them. Runs the real commands in subprocesses against a scratch database."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = "redis://127.0.0.1:6379/5"

SEED = """
from datetime import timedelta
from django.utils import timezone
from tests import factories as f
from kameng.orders.services import place_order, deliver_custom_service
from kameng.refunds.models import Timer
from kameng.refunds.services import submit_refund
buyer = f.buyer(balance=100_00)
shop = f.seller()
order = place_order(buyer=buyer, product=f.product(kind="custom_service", price=40_00, of=shop))
deliver_custom_service(order_id=order.pk, seller_user=shop.owner, note="done")
case = submit_refund(order=order, actor=buyer, reason="other", demand="full_refund", description="没做完")
assert case.stage == "awaiting_seller", case.stage
Timer.objects.filter(case=case).update(due_at=timezone.now() - timedelta(seconds=1))
print(case.pk)
"""

CHECK = """
from kameng.refunds.models import RefundCase
c = RefundCase.objects.get(pk={pk})
print(c.stage, c.decision_clause)
"""


def _redis_up() -> bool:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
        return True
    except redis.exceptions.ConnectionError:
        return False


def test_seller_silence_is_auto_approved_by_an_rq_worker(tmp_path):
    if not _redis_up():
        if os.environ.get("CI"):
            pytest.fail("Redis is not reachable at 127.0.0.1:6379 (CI must have it)")
        pytest.skip("Redis not reachable: scale-out mode not tested")
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    env = {
        **os.environ,
        "KAMENG_REDIS_URL": REDIS_URL,
        "KAMENG_VAR_DIR": str(tmp_path),
        "KAMENG_SQLITE_PATH": str(tmp_path / "rq.sqlite3"),
        "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}",
    }
    env.pop("KAMENG_DATABASE_URL", None)
    manage = [sys.executable, str(ROOT / "manage.py")]

    def run(*args, **kw):
        return subprocess.run(
            [*manage, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120, check=True, **kw
        )

    run("migrate", "--noinput", "-v", "0")
    pk = run("shell", "-c", SEED).stdout.strip().splitlines()[-1]

    ticked = run("tick").stdout
    assert "deadlines=1" in ticked
    assert redis.Redis.from_url(REDIS_URL).llen("rq:queue:default") >= 1
    run("rqworker", "--job-class", "django_tasks_rq.Job", "--burst", "default")

    stage, clause = run("shell", "-c", CHECK.format(pk=pk)).stdout.strip().splitlines()[-1].split()
    assert stage == "refunded"
    assert clause == "6@v1"
