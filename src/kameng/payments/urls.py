"""Mounted at the site root: each path is spelled out whole, because these are doors other people
use (the wallet's top-up form, the sandbox cashier, the gateway's notify URL) and stay where they are."""

from django.conf import settings
from django.urls import path

from . import views

app_name = "payments"
urlpatterns = [
    path("wallet/topup/", views.topup, name="topup"),
    path("payments/notify/<str:gateway>/", views.gateway_notify, name="gateway_notify"),
]
# The sandbox cashier exists only with KAMENG_SANDBOX on (its notify URL answers 404 otherwise too:
# the sandbox gateway cannot be selected).
if settings.SANDBOX:
    urlpatterns.append(path("sandbox/pay/<str:out_trade_no>/", views.sandbox_cashier, name="sandbox_cashier"))
