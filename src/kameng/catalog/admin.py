from django.contrib import admin

from .models import Product, Seller


@admin.register(Seller)
class SellerAdmin(admin.ModelAdmin):
    list_display = ("name", "is_platform", "owner", "is_active")
    search_fields = ("name",)


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("name", "seller", "kind", "price", "stock", "is_active")
    list_filter = ("kind", "is_active", "seller")
    search_fields = ("name",)
