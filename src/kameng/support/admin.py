from django.contrib import admin

from .models import (
    AgentSkill,
    Answer,
    CannedReply,
    ChannelComplaint,
    ChannelComplaintRule,
    InboundMail,
    OutboundMail,
    Promotion,
    WeChatBinding,
    WeChatInbound,
    WeChatOutbound,
)


@admin.register(Answer)
class AnswerAdmin(admin.ModelAdmin):
    list_display = ("question", "position", "is_active")
    list_editable = ("position", "is_active")
    search_fields = ("question", "answer", "keywords")


@admin.register(Promotion)
class PromotionAdmin(admin.ModelAdmin):
    list_display = ("name", "starts_at", "ends_at")


@admin.register(WeChatInbound)
class WeChatInboundAdmin(admin.ModelAdmin):
    """What WeChat posted, bound followers and strangers alike (read only: it is the record)."""

    list_display = ("received_at", "openid", "msg_type", "content", "outcome", "conversation")
    list_filter = ("outcome", "msg_type")
    search_fields = ("openid", "msg_id", "content")


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


class ReadOnly(admin.ModelAdmin):
    """Mail as it came and went: read here, changed only by the mail code (the raw bytes stay as
    they arrived; staff download them from /support/staff/mail/)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(WeChatOutbound)
class WeChatOutboundAdmin(admin.ModelAdmin):
    list_display = ("created_at", "openid", "state", "attempts", "last_error", "conversation")
    list_filter = ("state",)
    search_fields = ("openid", "text")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(WeChatBinding)
class WeChatBindingAdmin(admin.ModelAdmin):
    list_display = ("buyer", "openid", "bound_at")
    search_fields = ("openid", "buyer__username")
    raw_id_fields = ("buyer",)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CannedReply)
class CannedReplyAdmin(admin.ModelAdmin):
    list_display = ("title", "position", "is_active")
    list_editable = ("position", "is_active")
    search_fields = ("title", "text")


@admin.register(AgentSkill)
class AgentSkillAdmin(admin.ModelAdmin):
    list_display = ("agent", "goods_kind", "channel")
    list_filter = ("goods_kind", "channel")
    autocomplete_fields = ("agent",)


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
