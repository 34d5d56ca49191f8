from django.urls import path

from . import views

app_name = "catalog"
urlpatterns = [
    path("", views.index, name="index"),
    path("p/<int:pk>/", views.product_detail, name="product"),
    path("seller/products/new/", views.seller_product_edit, name="seller_product_new"),
    path("seller/products/<int:pk>/", views.seller_product_edit, name="seller_product_edit"),
    path("seller/products/<int:pk>/keys/", views.seller_import_keys, name="seller_import_keys"),
    path("seller/products/<int:pk>/keys/confirm/", views.seller_confirm_keys, name="seller_confirm_keys"),
    path("seller/inventory/", views.seller_inventory, name="seller_inventory"),
]
