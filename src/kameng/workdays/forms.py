from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .services import MAX_YEAR, MIN_YEAR


def _next_year() -> int:
    return timezone.localdate().year + 1


class LoadYearForm(forms.Form):
    year = forms.IntegerField(label=_("年份"), min_value=MIN_YEAR, max_value=MAX_YEAR, initial=_next_year)
    text = forms.CharField(
        label=_("全年放假安排"),
        widget=forms.Textarea(attrs={"rows": 24, "cols": 60, "style": "font-family: monospace"}),
        help_text=_(
            "每行一个日期：“2027-01-01 holiday 元旦”表示放假，“2027-02-07 workday 春节调休”表示调休上班；"
            "空行和 # 开头的注释会被忽略。请粘贴国务院公布的完整安排：载入后，该年未列出的日期按“周末休息”计算。"
        ),
    )
    note = forms.CharField(
        label=_("备注"), max_length=200, required=False, help_text=_("例如：国办发明电〔2026〕X 号")
    )
