"""What each operation that grows with the data sends, at two sizes: the same number of statements
with 3 cases as with 30 more (counted, never timed). `make bench-scale` times them at 1k-100k."""

import io

import pytest
from django.core.management import call_command
from django.db import connection, reset_queries
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kameng.ops.scale import seed_cases
from kameng.ops.tick import tick

pytestmark = pytest.mark.django_db


def statements(work) -> int:
    work()  # first uses (caches, sessions) out of the way
    reset_queries()  # a request empties the log as it starts: count from an empty one
    with CaptureQueriesContext(connection) as run:
        work()
    return len(run)


def page(user, url: str):
    client = Client()
    client.force_login(user)

    def get():
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        return response

    return get


def operations(seeded) -> dict:
    return {
        "verify_chain": lambda: call_command("verify_chain", stdout=io.StringIO()),
        "tick": tick,
        "staff queue": page(seeded.agent, "/refunds/staff/"),
        "staff queue 已退款": page(seeded.agent, "/refunds/staff/?stage=refunded"),
        "seller's cases": page(seeded.seller_owner, "/refunds/seller/"),
        "buyer's API cases": page(seeded.buyer, "/api/refunds"),
        "case page": page(seeded.buyer, f"/refunds/{seeded.case_id}/"),
    }


def counts(seeded) -> dict:
    return {name: statements(work) for name, work in operations(seeded).items()}


def test_no_operation_sends_more_statements_as_the_cases_grow():
    small = counts(seed_cases(3, case_events=3))
    large = counts(seed_cases(30, case_events=30))  # 33 cases now, each of the second lot with 30 events

    assert large == small
