from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from .actions.clauses import save_clause
from .models import Attachment, Clause, EvidenceRule, Payout, RefundCase, Timer


@admin.register(Clause)
class ClauseAdmin(admin.ModelAdmin):
    """Clauses are versioned: saving a change writes a new version and retires the old one,
    so every past decision still points at the exact text it used."""

    list_display = ("number", "version", "title", "is_current", "created_at")
    list_filter = ("is_current",)
    ordering = ("number", "-version")
    fields = ("number", "title", "body", "params")

    def get_readonly_fields(self, request, obj=None):
        return ("number",) if obj else ()

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        saved = save_clause(
            number=obj.number,
            title=obj.title,
            body=obj.body,
            params=obj.params,
            editing=obj if change else None,
        )
        if saved is None:
            return
        obj.pk, obj.version = saved.pk, saved.version  # the admin's answer links to the new version
        if change:
            messages.info(
                request,
                _("已保存为第%(n)d条的新版本 v%(v)d；旧版本保留用于已有决定。")
                % {"n": saved.number, "v": saved.version},
            )


@admin.register(EvidenceRule)
class EvidenceRuleAdmin(admin.ModelAdmin):
    list_display = ("reason", "kind", "note")
    list_filter = ("reason",)


class AttachmentInline(admin.TabularInline):
    model = Attachment
    extra = 0
    can_delete = False
    readonly_fields = ("item", "original_name", "content_type", "size", "sha256", "uploaded_by", "created_at")
    fields = readonly_fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(RefundCase)
class RefundCaseAdmin(admin.ModelAdmin):
    """Read-only here: cases change only through the engine's services (pages and API)."""

    list_display = (
        "id",
        "order",
        "buyer",
        "seller",
        "reason",
        "stage",
        "holder",
        "deadline_at",
        "amount_requested",
    )
    list_filter = ("stage", "reason", "holder")
    search_fields = ("order__no", "buyer__username")
    inlines = [AttachmentInline]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Timer)
class TimerAdmin(admin.ModelAdmin):
    list_display = ("case", "kind", "stage", "due_at", "enqueued_at", "done_at", "outcome")
    list_filter = ("kind", "outcome")

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Payout)
class PayoutAdmin(admin.ModelAdmin):
    list_display = ("key", "case", "amount", "method", "status", "created_at", "completed_at")
    list_filter = ("status", "method")

    def has_change_permission(self, request, obj=None):
        return False
