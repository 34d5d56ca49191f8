"""The baseline for `make bench`: the cheapest useful write, through the same stack (ASGI, ninja,
session auth, CSRF, the same database). Mounted only when KAMENG_BENCH=1."""

from ninja import Router, Status

from kameng.accounts.services import notify

router = Router(tags=["bench"])


@router.post("/insert", response={201: dict})
def insert_one_row(request):
    notify(request.user, "bench")
    return Status(201, {"ok": True})
