from django.contrib import admin

from .models import OfficialChannel


@admin.register(OfficialChannel)
class OfficialChannelAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "value", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("value", "name")
    readonly_fields = ("normalized",)
