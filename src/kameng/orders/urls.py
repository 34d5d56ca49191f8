"""Mounted at the site root, each path spelled out whole: the orders pages under /orders/, and the
seller's desk at /seller/ (it shows the seller's orders, so it lives here, above catalog)."""

from django.urls import path

from . import views

app_name = "orders"
urlpatterns = [
    path("orders/", views.order_list, name="list"),
    path("orders/buy/<int:product_id>/", views.buy, name="buy"),
    path("orders/<str:no>/", views.order_detail, name="detail"),
    path("orders/<str:no>/pay/", views.pay, name="pay"),
    path("orders/<str:no>/reveal/", views.reveal, name="reveal"),
    path("orders/<str:no>/cancel/", views.cancel, name="cancel"),
    path("orders/<str:no>/confirm/", views.confirm, name="confirm"),
    path("orders/<str:no>/seller/", views.seller_detail, name="seller_detail"),
    path("orders/<str:no>/delivery-file/", views.delivery_file, name="delivery_file"),
    path("seller/", views.seller_home, name="seller_home"),
]
