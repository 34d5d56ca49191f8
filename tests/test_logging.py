"""A refused request (403) is one warning line, not a traceback: it is the system working."""

import logging

import pytest

from tests import factories as f

pytestmark = pytest.mark.django_db


def test_a_403_logs_one_line_without_a_traceback(client, caplog):
    client.force_login(f.buyer())
    with caplog.at_level(logging.WARNING, logger="django.request"):
        page = client.get("/refunds/staff/")
    assert page.status_code == 403
    refused = [
        r for r in caplog.records if r.name == "django.request" and getattr(r, "status_code", 0) == 403
    ]
    assert len(refused) == 1
    assert refused[0].exc_info is None
    assert "Traceback" not in caplog.text
