"""The JSON API under /api/, one router per app; schema at /api/openapi.json."""

from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import django_auth

api = NinjaAPI(
    title="kameng API",
    version="1",
    urls_namespace="api",
    auth=django_auth,
    docs_url="/docs",
)


@api.exception_handler(ValidationError)
def _validation(request, exc):
    return api.create_response(request, {"detail": _("请求参数有误"), "errors": exc.errors}, status=422)


@api.exception_handler(AuthenticationError)
def _auth(request, exc):
    return api.create_response(request, {"detail": _("请先登录")}, status=401)


@api.exception_handler(HttpError)
def _http(request, exc):
    return api.create_response(request, {"detail": str(exc)}, status=exc.status_code)


@api.get("/health", auth=None, tags=["system"])
def health(request):
    return {"status": "ok"}


def _mount():
    from kameng.catalog.api import router as catalog_router
    from kameng.orders.api import router as orders_router
    from kameng.wallet.api import router as wallet_router

    api.add_router("/catalog", catalog_router)
    api.add_router("/orders", orders_router)
    api.add_router("/wallet", wallet_router)


_mount()
