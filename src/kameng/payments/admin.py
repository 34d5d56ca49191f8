from django.contrib import admin

from .models import GatewayRefund


@admin.register(GatewayRefund)
class GatewayRefundAdmin(admin.ModelAdmin):
    list_display = ("key", "payment", "amount", "status", "attempts", "last_error", "gateway_refund_no")
    list_filter = ("status",)

    def has_change_permission(self, request, obj=None):
        return False
