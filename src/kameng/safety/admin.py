from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import models
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _

from kameng.accounts.models import Role
from kameng.accounts.permissions import has_role

from . import rules, scam
from .models import OfficialChannel, ScamHit, ScamRule


@admin.register(OfficialChannel)
class OfficialChannelAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "value", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("value", "name")
    readonly_fields = ("normalized",)


SENDER_CHOICES = [
    ("seller", _("卖家")),
    ("buyer", _("买家（发送前）")),
    ("agent", _("客服")),
    ("email", _("邮件")),
    ("social", _("微信等社交渠道")),
]


class TryForm(forms.Form):
    """Text to try, and optionally a draft rule tried with the saved ones (replacing one of them, or
    added), so an administrator sees what a change would do before saving it."""

    text = forms.CharField(
        label=_("要检测的文字"), max_length=20000, widget=forms.Textarea(attrs={"rows": 5, "cols": 80})
    )
    sender = forms.ChoiceField(label=_("发送方"), choices=SENDER_CHOICES, initial="seller")
    draft_of = forms.ModelChoiceField(
        label=_("草稿替换的规则"),
        queryset=ScamRule.objects.all(),
        required=False,
        help_text=_("留空则把草稿当作一条新规则加入。"),
    )
    kind = forms.ChoiceField(
        label=_("草稿类型"), choices=[("", "---------"), *ScamRule.Kind.choices], required=False
    )
    category = forms.ChoiceField(
        label=_("草稿类别"), choices=[("", "---------"), *ScamRule.Category.choices], required=False
    )
    pattern = forms.CharField(
        label=_("草稿规则"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 80}),
    )
    weight = forms.FloatField(label=_("草稿分值"), required=False, min_value=-100, max_value=100)

    def clean_text(self):
        return self.cleaned_data["text"].replace("\x00", "")

    def draft(self):
        """The draft as a ScamRule not saved, or None when no pattern was given."""
        data = self.cleaned_data
        if not data.get("pattern"):
            return None
        base = data.get("draft_of")
        return ScamRule(
            id=base.id if base else None,
            name=(base.name if base else str(_("草稿规则"))) + str(_("（草稿）")),
            kind=data.get("kind") or (base.kind if base else ScamRule.Kind.PHRASE),
            category=data.get("category") or (base.category if base else ScamRule.Category.OTHER),
            pattern=data["pattern"],
            weight=data["weight"] if data.get("weight") is not None else (base.weight if base else 3),
        )

    def clean(self):
        data = super().clean()
        draft = self.draft() if "text" in data else None
        if draft is not None:
            try:
                rules.compile_rule(draft)
            except ValueError as error:
                self.add_error("pattern", str(error))
        return data


@admin.register(ScamRule)
class ScamRuleAdmin(admin.ModelAdmin):
    list_display = ("name", "category", "kind", "weight", "is_active")
    list_filter = ("category", "kind", "is_active")
    list_editable = ("weight", "is_active")
    formfield_overrides = {models.FloatField: {"widget": forms.NumberInput(attrs={"style": "width: 5em"})}}
    search_fields = ("name", "pattern", "note")
    change_list_template = "safety/admin/scamrule_change_list.html"

    def get_urls(self):
        try_it = path("try/", self.admin_site.admin_view(self.try_view), name="safety_scamrule_try")
        return [try_it, *super().get_urls()]

    def try_view(self, request):
        if not (has_role(request.user, Role.ADMIN) and self.has_change_permission(request)):
            raise PermissionDenied
        form = TryForm(request.POST or None)
        result = None
        if request.method == "POST" and form.is_valid():
            saved = list(ScamRule.objects.filter(is_active=True).order_by("id"))
            draft = form.draft()
            if draft is not None:
                saved = [r for r in saved if r.id != draft.id or draft.id is None] + [draft]
            verdict = scam.check(
                form.cleaned_data["text"], sender=form.cleaned_data["sender"], ruleset=rules.build(saved)
            )
            labels = dict(ScamRule.Category.choices)
            result = {
                "verdict": verdict,
                "categories": [labels.get(c, c) for c in verdict.categories],
                "draft": draft,
            }
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("试一试防骗规则"),
            "form": form,
            "result": result,
        }
        return TemplateResponse(request, "safety/admin/try.html", context)


@admin.register(ScamHit)
class ScamHitAdmin(admin.ModelAdmin):
    list_display = ("created_at", "verdict", "score", "sender", "excerpt", "source", "source_id")
    list_filter = ("verdict", "sender", "source")
    search_fields = ("digest", "excerpt", "source_id")
    readonly_fields = [f.name for f in ScamHit._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
