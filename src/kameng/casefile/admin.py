from django.contrib import admin

from .models import Complaint


@admin.register(Complaint)
class ComplaintAdmin(admin.ModelAdmin):
    list_display = ("pk", "source", "buyer", "case", "state", "due_at", "created_at")
    list_filter = ("source", "state")
    readonly_fields = (
        "case",
        "conversation",
        "buyer",
        "source",
        "origin",
        "text",
        "due_at",
        "clause",
        "created_at",
    )

    def has_delete_permission(self, request, obj=None):
        return False  # kept 3 years (电子商务法 第三十一条)

    def has_add_permission(self, request):
        return False  # filed by buyers or raised by the system
