from django.contrib import admin

from .models import Answer, ChannelComplaint, ChannelComplaintRule, Promotion


@admin.register(Answer)
class AnswerAdmin(admin.ModelAdmin):
    list_display = ("question", "position", "is_active")
    list_editable = ("position", "is_active")
    search_fields = ("question", "answer", "keywords")


@admin.register(Promotion)
class PromotionAdmin(admin.ModelAdmin):
    list_display = ("name", "starts_at", "ends_at")


@admin.register(ChannelComplaintRule)
class ChannelComplaintRuleAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "channel",
        "kind",
        "first_reply",
        "first_reply_unit",
        "resolve",
        "resolve_unit",
        "is_default",
    )
    list_filter = ("channel",)


@admin.register(ChannelComplaint)
class ChannelComplaintAdmin(admin.ModelAdmin):
    """Read-only: complaints change through their services (the webhook, replies, the tick)."""

    list_display = (
        "complaint_id",
        "channel",
        "order",
        "state",
        "first_reply_due",
        "resolve_due",
        "completed_at",
    )
    list_filter = ("channel", "state")
    search_fields = ("complaint_id", "payment_ref", "order__no")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
