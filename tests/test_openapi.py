"""Fuzz the whole JSON API against its own OpenAPI schema (schemathesis, in process).

Any 5xx, any response that does not match its declared schema or status codes, any valid request
refused and any invalid one accepted fails the test. The caller is a funded buyer with a bearer
token who owns an order and a refund case, so the buyer paths are reached, not only the 404s.
"""

import os

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from kameng.accounts.api import issue_token
from kameng.orders.services import place_order
from kameng.refunds.services import submit_refund
from tests import factories as f

# A well-formed request may still be refused by a business rule the schema cannot state: a case
# already refunded cannot be cancelled, a second 催一催 within 24 h, an order with no stock. Those
# are 400s with a message (and the examples share one database, so the first cancel makes the next
# one a 400). Everything the schema *can* state (bounds, enums, NUL-free text) is in the schema.
#
# The coverage phase (every boundary and every invalid variant of every field, ~1100 requests, about
# a minute) runs when KAMENG_FUZZ_COVERAGE=1; the default run fuzzes max_examples per operation.
CONFIG = schemathesis.config.SchemathesisConfig.from_dict(
    {
        "checks": {
            "positive_data_acceptance": {"expected-statuses": ["2xx", "400", "401", "403", "404", "409"]}
        },
        "phases": {"coverage": {"enabled": os.environ.get("KAMENG_FUZZ_COVERAGE") == "1"}},
    }
)

# The schema is read once at import; requests go straight into Django's handler (no server, no threads,
# so the test's database transaction is the one the API sees).
schema = schemathesis.openapi.from_wsgi("/api/openapi.json", WSGIHandler(), config=CONFIG)


@pytest.fixture
def _keep_test_connection():
    """Django's own test client does this: a plain WSGIHandler closes the database connection after
    each request, which on PostgreSQL (pooled) would hand the test's open transaction back to the pool."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def buyer_headers(db, settings, _keep_test_connection):
    buyer = f.buyer(balance=500_00)
    order = place_order(buyer=buyer, product=f.product(price=10_00, keys=3, of=f.seller()))
    submit_refund(order=order, actor=buyer, reason="other", demand="full_refund")
    place_order(buyer=buyer, product=f.product(price=10_00, keys=3))
    return {"Authorization": f"Bearer {issue_token(buyer)}"}


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_api_honours_its_schema(case, buyer_headers):
    case.call_and_validate(headers=buyer_headers)
