from django.contrib import admin

from .models import Answer, Promotion


@admin.register(Answer)
class AnswerAdmin(admin.ModelAdmin):
    list_display = ("question", "position", "is_active")
    list_editable = ("position", "is_active")
    search_fields = ("question", "answer", "keywords")


@admin.register(Promotion)
class PromotionAdmin(admin.ModelAdmin):
    list_display = ("name", "starts_at", "ends_at")
