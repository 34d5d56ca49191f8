from django.conf import settings
from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from .api import api
from .support.views import wechat_door

urlpatterns = [
    path("", include("kameng.catalog.urls")),
    path("accounts/", include("kameng.accounts.urls")),
    path("notices/", include("kameng.accounts.notice_urls")),
    # orders and payments spell out their paths whole (/orders/..., /seller/, /wallet/topup/,
    # /sandbox/pay/..., /payments/notify/...): their doors stayed where they were when they moved.
    path("", include("kameng.orders.urls")),
    path("", include("kameng.payments.urls")),
    path("wallet/", include("kameng.wallet.urls")),
    path("refunds/", include("kameng.refunds.urls")),
    path("support/", include("kameng.support.urls")),
    path("", include("kameng.safety.urls")),  # /verify/ 验证客服
    path("staff/evidence/", include("kameng.ops.urls")),
    path("casefile/", include("kameng.casefile.urls")),
    # The WeChat official account's server URL, as configured on WeChat's side (SPEC §12: keep it).
    path("channels/wechat/", wechat_door, name="wechat_door"),
    # Payment channels (WeChat Pay, Alipay) notify complaints here: a door, signature-checked.
    path("channels/pay/", include("kameng.support.paychannel.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    # Browsers ask for /favicon.ico whatever the page links: send them to the static icon.
    path("favicon.ico", RedirectView.as_view(url=static("kameng/favicon.ico"), permanent=True)),
]

if settings.DEBUG or settings.SERVE_STATIC:
    from django.contrib.staticfiles.views import serve as static_serve

    urlpatterns += [path("static/<path:path>", static_serve, {"insecure": True})]
# Uploaded files are never served publicly: deliveries and evidence go through views that check ownership.
