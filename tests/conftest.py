import os

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.utils import translation

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # live_server + sync Playwright share a thread

CHROMIUM = "/usr/bin/chromium"


def pytest_collection_modifyitems(config, items):
    # Browser tests last: their event loop otherwise clashes with async tests.
    items.sort(key=lambda item: 1 if item.get_closest_marker("browser") else 0)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _default_language():
    """A request in English (LocaleMiddleware) leaves English active in this thread: every test starts
    in the default language, as a new request would."""
    translation.activate(django_settings.LANGUAGE_CODE)
    yield
    translation.activate(django_settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # Argon2 at production cost makes every factory user take ~100 ms; no story here is about hashing.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def on_postgres(db):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: run with KAMENG_DATABASE_URL (make test does)")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not os.path.exists(CHROMIUM):
        if os.environ.get("KAMENG_REQUIRE_BROWSER"):
            pytest.fail(f"{CHROMIUM} is missing (apt-get install -y chromium fonts-noto-cjk)")
        pytest.skip(
            f"browser tests skipped: {CHROMIUM} not found (apt-get install -y chromium fonts-noto-cjk)"
        )
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ],
    }


@pytest.fixture
def drain_tasks(db):
    """Run the real database task worker until the queue is empty."""
    from django.core.management import call_command

    def drain():
        call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)

    return drain


@pytest.fixture(autouse=True)
def _default_policy(request):
    """Transactional tests (threads, browsers) end with a flush that also wipes the rows the data
    migrations wrote: the clauses and evidence rules. Put them back for whichever test comes next."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None:
        return
    transactional = marker.kwargs.get("transaction", False) or (marker.args and marker.args[0])
    request.getfixturevalue("transactional_db" if transactional else "db")
    from kameng.refunds import policy
    from kameng.refunds.models import Clause, EvidenceRule
    from kameng.refunds.policy import DEFAULT_CLAUSES, DEFAULT_EVIDENCE

    policy.clear_cache()  # each test starts from the database's clauses, not the previous test's
    if Clause.objects.exists():
        return
    Clause.objects.bulk_create(
        [Clause(number=n, version=1, title=t, body=b, params=p) for n, t, b, p in DEFAULT_CLAUSES]
    )
    EvidenceRule.objects.bulk_create(
        [EvidenceRule(reason=r, kind=k, items=i, note=note) for r, k, i, note in DEFAULT_EVIDENCE]
    )
    # The other rows data migrations write, by the migrations' own functions (idempotent or run on
    # empty tables): help-centre answers, canned replies, payment-channel deadlines, the official
    # channels and the scam rules.
    import importlib

    from django.apps import apps

    for module, function in SEEDING_MIGRATIONS:
        getattr(importlib.import_module(module), function)(apps, None)


SEEDING_MIGRATIONS = [
    ("kameng.support.migrations.0002_default_answers", "add"),
    ("kameng.support.migrations.0006_pay_channel_complaints", "seed_rules"),
    ("kameng.support.migrations.0007_desk", "add_canned"),
    ("kameng.safety.migrations.0002_demo_official_channels", "add"),
    ("kameng.safety.migrations.0003_scam_rules", "add_rules"),
]
