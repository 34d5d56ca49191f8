"""Field types shared by the API routers, so every schema says exactly what the server accepts."""

from typing import Annotated, Any

from ninja.pagination import PageNumberPagination, paginate
from pydantic import BeforeValidator, Field

MAX_ID = 2**63 - 1  # bigint primary keys: a larger id can only be a 404, never a database error
MAX_AMOUNT = 10**12  # 分: far above any order, well inside a bigint column
# PostgreSQL text cannot hold NUL; refusing it in the schema keeps the answer a 422, not a 500.
NO_NUL = r"^[^\x00]*$"


def _json_number_only(value: Any) -> Any:
    # JSON `true` must never pass as 1, nor "5" as 5; 5.0 is a JSON Schema integer and passes.
    if isinstance(value, bool | str | bytes):
        raise ValueError("must be a JSON integer")
    return value


def json_int(*, ge: int | None = None, le: int | None = None) -> Any:
    """An integer as JSON Schema means it: like pydantic's StrictInt for booleans and strings, but 57.0
    passes, because the schema says "integer" and JSON Schema counts 57.0 as one (StrictInt refused
    it, and schemathesis reported the 422). The bounds go before the validator, or pydantic writes
    them into the OpenAPI schema as "ge"/"le" instead of "minimum"/"maximum"."""
    return Annotated[int, Field(ge=ge, le=le), BeforeValidator(_json_number_only)]


def text(max_length: int, default: str = "", **extra: Any) -> Any:
    """A free-text field: bounded, and without NUL characters."""
    return Field(default, max_length=max_length, pattern=NO_NUL, **extra)


# Every list the API returns is paged: `page` (from 1) and `page_size` (default PAGE_SIZE, capped
# at MAX_PAGE_SIZE); the answer is {"items": [...], "count": <on all pages>}.
PAGE_SIZE, MAX_PAGE_SIZE = 50, 100


def paged(view):
    """django-ninja's page-number pagination with the sizes above."""
    return paginate(PageNumberPagination, page_size=PAGE_SIZE, max_page_size=MAX_PAGE_SIZE)(view)
