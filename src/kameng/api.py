"""The JSON API under /api/, one router per app; schema at /api/openapi.json."""

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404, RawPostDataException
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from kameng.accounts.api import bearer, session

# Scripts send `Authorization: Bearer <token>` (POST /api/auth/token); the browser uses its session.
api = NinjaAPI(
    title="kameng API",
    version="1",
    urls_namespace="api",
    auth=[bearer, session],
    docs_url="/docs",
)


@api.exception_handler(ValidationError)
def _validation(request, exc):
    return api.create_response(request, {"detail": _("请求参数有误"), "errors": exc.errors}, status=422)


@api.exception_handler(AuthenticationError)
def _auth(request, exc):
    return api.create_response(request, {"detail": _("请先登录")}, status=401)


@api.exception_handler(Http404)
def _not_found(request, exc):
    return api.create_response(request, {"detail": _("未找到")}, status=404)


@api.exception_handler(PermissionDenied)
def _forbidden(request, exc):
    return api.create_response(request, {"detail": _("没有权限")}, status=403)


@api.exception_handler(RawPostDataException)
def _form_sent_to_json(request, exc):
    # A form (multipart) body sent to an endpoint that reads JSON: the form was already parsed (the
    # NUL check reads forms), so there is no JSON to read. The client's mistake, never a 500.
    return api.create_response(
        request,
        {"detail": _("请求体格式不对：本接口只接受 JSON（Content-Type: application/json）。")},
        status=400,
    )


@api.exception_handler(HttpError)
def _http(request, exc):
    return api.create_response(request, {"detail": str(exc)}, status=exc.status_code)


@api.get("/health", auth=None, tags=["system"])
def health(request):
    return {"status": "ok"}


def _mount():
    from kameng.accounts.api import router as auth_router
    from kameng.accounts.notice_api import router as notices_router
    from kameng.catalog.api import router as catalog_router
    from kameng.orders.api import router as orders_router
    from kameng.payments.api import router as topups_router
    from kameng.refunds.api import router as refunds_router
    from kameng.safety.api import router as safety_router
    from kameng.support.api import router as support_router
    from kameng.support.api_calls import router as calls_router
    from kameng.support.paychannel.api import router as channel_complaints_router
    from kameng.wallet.api import router as wallet_router

    api.add_router("/auth", auth_router)
    api.add_router("/notices", notices_router)
    api.add_router("/catalog", catalog_router)
    api.add_router("/orders", orders_router)
    api.add_router("/wallet", wallet_router)
    api.add_router("/wallet", topups_router)  # POST /api/wallet/topups: payments' door, under the wallet
    api.add_router("/refunds", refunds_router)
    api.add_router("/support", support_router)
    api.add_router("/support", calls_router)  # calls and commitments
    api.add_router("/support", channel_complaints_router)  # complaints made to the payment channel
    api.add_router("/", safety_router)  # GET /api/verify (SPEC §12)
    if settings.BENCH_ENDPOINTS:  # `make bench` only: the bare one-row insert baseline
        from kameng.ops.bench_api import router as bench_router

        api.add_router("/bench", bench_router)


_mount()
