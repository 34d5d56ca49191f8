from django import forms
from django.utils.translation import gettext_lazy as _

from .commitments import PROMISE_MAX, SUMMARY_MAX
from .models import Call


class LocalDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class CallForm(forms.Form):
    direction = forms.ChoiceField(label=_("方向"), choices=Call.Direction.choices)
    number = forms.CharField(label=_("号码"), max_length=30)
    summary = forms.CharField(
        label=_("通话摘要"), max_length=SUMMARY_MAX, widget=forms.Textarea(attrs={"rows": 3})
    )
    promise = forms.CharField(
        label=_("承诺（可不填）"),
        max_length=PROMISE_MAX,
        required=False,
        help_text=_("例如：18:00 前回电；周五前退款"),
    )
    due_at = forms.DateTimeField(label=_("最晚时间"), required=False, widget=LocalDateTimeInput())
    working_days = forms.IntegerField(
        label=_("或：几个工作日内"),
        required=False,
        min_value=1,
        max_value=30,
        help_text=_("按工作日历计算，节假日顺延"),
    )

    def clean(self):
        data = super().clean()
        if data.get("promise") and not data.get("due_at") and not data.get("working_days"):
            self.add_error("due_at", _("有承诺时，请填写最晚时间或工作日数。"))
        return data


class CallbackForm(forms.Form):
    at = forms.DateTimeField(label=_("希望在此之前回电"), widget=LocalDateTimeInput())
    phone = forms.CharField(label=_("回电号码"), max_length=30)
