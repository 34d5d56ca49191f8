from django.contrib import admin

from .models import Answer, InboundMail, OutboundMail, Promotion


@admin.register(Answer)
class AnswerAdmin(admin.ModelAdmin):
    list_display = ("question", "position", "is_active")
    list_editable = ("position", "is_active")
    search_fields = ("question", "answer", "keywords")


@admin.register(Promotion)
class PromotionAdmin(admin.ModelAdmin):
    list_display = ("name", "starts_at", "ends_at")


class ReadOnly(admin.ModelAdmin):
    """Mail as it came and went: read here, changed only by the mail code (the raw bytes stay as
    they arrived; staff download them from /support/staff/mail/)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(InboundMail)
class InboundMailAdmin(ReadOnly):
    list_display = ("received_at", "source", "sender", "subject", "state", "needs_review", "throttled")
    list_filter = ("state", "needs_review", "throttled", "source")
    search_fields = ("sender", "subject", "msgid")
    exclude = ("raw",)


@admin.register(OutboundMail)
class OutboundMailAdmin(ReadOnly):
    list_display = ("created_at", "to_address", "subject", "state", "attempts", "sent_at", "last_error")
    list_filter = ("state",)
    search_fields = ("to_address", "subject", "msgid")
