from django.contrib import admin

from .models import AgentSkill, Answer, CannedReply, Promotion


@admin.register(Answer)
class AnswerAdmin(admin.ModelAdmin):
    list_display = ("question", "position", "is_active")
    list_editable = ("position", "is_active")
    search_fields = ("question", "answer", "keywords")


@admin.register(Promotion)
class PromotionAdmin(admin.ModelAdmin):
    list_display = ("name", "starts_at", "ends_at")


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
