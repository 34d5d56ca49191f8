from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "display_name", "agent_no", "phone", "is_staff", "is_active")
    search_fields = ("username", "display_name", "agent_no", "phone")
    fieldsets = (*BaseUserAdmin.fieldsets, ("kameng", {"fields": ("display_name", "phone", "agent_no")}))
