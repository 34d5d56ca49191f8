from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from kameng.inventory.models import CardKey
from kameng.payments.models import Payment

from .aftersales import reverify_revoked_keys
from .models import Delivery, Order


class PaymentInline(admin.TabularInline):
    model = Payment
    extra = 0
    can_delete = False
    fields = (
        "out_trade_no",
        "method",
        "amount",
        "status",
        "gateway_trade_no",
        "paid_at",
        "credited_to_balance",
    )
    readonly_fields = fields


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ("no", "buyer", "product", "seller", "amount", "status", "created_at")
    list_filter = ("status", "kind")
    search_fields = ("no", "buyer__username")
    inlines = [PaymentInline]

    def has_change_permission(self, request, obj=None):
        return False


# Registered here rather than in inventory: its action asks the supplier through orders (aftersales).
@admin.register(CardKey)
class CardKeyAdmin(admin.ModelAdmin):
    """Never shows the secret: only its status and the facts around it."""

    list_display = ("id", "product", "status", "order", "assigned_at", "viewed_at", "redeemed", "batch")
    list_filter = ("status", "product")
    exclude = ("secret_enc", "fingerprint")
    actions = ["reverify"]

    @admin.action(description=_("向供应商核验已撤回的卡密，未兑换的重新上架"))
    def reverify(self, request, queryset):
        back, kept = reverify_revoked_keys(
            key_ids=list(queryset.values_list("pk", flat=True)), actor=request.user
        )
        self.message_user(
            request,
            _("重新上架 %(a)d 条；供应商未确认未兑换、继续保留撤回 %(k)d 条。") % {"a": back, "k": kept},
        )

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ("order", "status", "supplier_ref", "supplier_result", "activated_at", "delivered_at")
    list_filter = ("status",)

    def has_change_permission(self, request, obj=None):
        return False
