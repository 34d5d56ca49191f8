import json

from django.db import OperationalError
from django.test import RequestFactory

from kameng.accounts.middleware import BusyDatabaseMiddleware


def _through_middleware(path: str, exc: Exception):
    middleware = BusyDatabaseMiddleware(lambda request: None)
    return middleware.process_exception(RequestFactory().post(path), exc)


def test_a_locked_database_answers_503_with_a_retry_message_not_a_500():
    response = _through_middleware("/api/refunds", OperationalError("database is locked"))
    assert response.status_code == 503
    assert response["Retry-After"] == "2"
    assert "系统繁忙" in json.loads(response.content)["detail"]

    page = _through_middleware("/refunds/new/KM1/", OperationalError("database is locked"))
    assert page.status_code == 503 and "没有生效" in page.content.decode()


def test_other_database_errors_are_not_hidden():
    assert _through_middleware("/api/refunds", OperationalError("no such table: x")) is None
    assert _through_middleware("/api/refunds", ValueError("locked")) is None
