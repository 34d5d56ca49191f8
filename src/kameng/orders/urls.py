from django.urls import path

from . import views

app_name = "orders"
urlpatterns = [
    path("", views.order_list, name="list"),
    path("buy/<int:product_id>/", views.buy, name="buy"),
    path("<str:no>/", views.order_detail, name="detail"),
    path("<str:no>/pay/", views.pay, name="pay"),
    path("<str:no>/reveal/", views.reveal, name="reveal"),
    path("<str:no>/cancel/", views.cancel, name="cancel"),
    path("<str:no>/confirm/", views.confirm, name="confirm"),
    path("<str:no>/seller/", views.seller_detail, name="seller_detail"),
    path("<str:no>/delivery-file/", views.delivery_file, name="delivery_file"),
]
