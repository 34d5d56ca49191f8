from django.contrib import admin

from .models import Account, Posting, Transaction


class PostingInline(admin.TabularInline):
    model = Posting
    extra = 0
    can_delete = False
    readonly_fields = ("account", "amount")


@admin.register(Transaction)
class TransactionAdmin(admin.ModelAdmin):
    """The ledger is append-only: readable here, never editable."""

    list_display = ("key", "kind", "reference", "created_at")
    list_filter = ("kind",)
    search_fields = ("key", "reference")
    inlines = [PostingInline]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ("code", "kind", "user")
    list_filter = ("kind",)
    search_fields = ("code",)

    def has_change_permission(self, request, obj=None):
        return False
