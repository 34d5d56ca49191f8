"""Mounted at the site root: each path is spelled out whole, because these are doors other people
use (the wallet's top-up form, the sandbox cashier, the gateway's notify URL) and stay where they are."""

from django.urls import path

from . import views

app_name = "payments"
urlpatterns = [
    path("wallet/topup/", views.topup, name="topup"),
    path("sandbox/pay/<str:out_trade_no>/", views.sandbox_cashier, name="sandbox_cashier"),
    path("payments/notify/<str:gateway>/", views.gateway_notify, name="gateway_notify"),
]
