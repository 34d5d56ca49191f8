"""Parsing what people type. Amounts are typed in 元 and become integer 分 through Decimal, never float."""

from decimal import Decimal, InvalidOperation

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import Demand, Reason, RefundTo

CHANNELS = [
    ("phone", gettext_lazy("电话")),
    ("email", gettext_lazy("邮件")),
    ("chat", gettext_lazy("在线客服")),
    ("web", gettext_lazy("网页")),
]
MAX_YUAN = Decimal("10000000")  # far above any order; stops absurd input before it reaches the engine


class AmountError(ValueError):
    pass


def parse_yuan(text) -> int:
    """'12', '12.5', '¥12.50' → 1250 分. Raises AmountError with a message for a person."""
    raw = (
        str(text or "").strip().replace("¥", "").replace("￥", "").replace(",", "").replace("元", "").strip()
    )
    if not raw:
        raise AmountError(_("请填写金额。"))
    try:
        value = Decimal(raw)
    except (InvalidOperation, ValueError):
        raise AmountError(
            _("金额“%(v)s”不是有效的数字，请填写如 12.50 的金额（元）。") % {"v": str(text)[:20]}
        ) from None
    if not value.is_finite():
        raise AmountError(
            _("金额“%(v)s”不是有效的数字，请填写如 12.50 的金额（元）。") % {"v": str(text)[:20]}
        )
    if value <= 0:
        raise AmountError(_("金额须大于 0。"))
    if value > MAX_YUAN:
        raise AmountError(_("金额过大。"))
    cents = value * 100
    if cents != cents.to_integral_value():
        raise AmountError(_("金额最多精确到分（两位小数）。"))
    return int(cents)


def cents_to_yuan_text(cents: int | None) -> str:
    if cents is None:
        return ""
    return f"{cents // 100}.{cents % 100:02d}"


class YuanField(forms.CharField):
    def clean(self, value):
        value = super().clean(value)
        if value in (None, ""):
            return None
        try:
            return parse_yuan(value)
        except AmountError as e:
            raise forms.ValidationError(str(e)) from None


class RefundRequestForm(forms.Form):
    reason = forms.ChoiceField(label=gettext_lazy("退款原因"), choices=Reason.choices)
    demand = forms.ChoiceField(label=gettext_lazy("诉求"), choices=Demand.choices, initial=Demand.FULL_REFUND)
    amount = YuanField(label=gettext_lazy("部分退款金额（元）"), required=False, max_length=20)
    refund_to = forms.ChoiceField(
        label=gettext_lazy("退款去向"), choices=RefundTo.choices, initial=RefundTo.BALANCE
    )
    description = forms.CharField(label=gettext_lazy("问题描述"), required=False, max_length=5000)
    statement = forms.CharField(label=gettext_lazy("事实与依据"), required=False, max_length=5000)
    channel = forms.ChoiceField(
        label=gettext_lazy("来源渠道"), choices=CHANNELS, initial="web", required=False
    )

    def clean(self):
        data = super().clean()
        if (
            data.get("demand") == Demand.PARTIAL_REFUND
            and not data.get("amount")
            and "amount" not in self.errors
        ):
            self.add_error("amount", _("选择部分退款时，请填写金额（元）。"))
        return data


def first_error(form: forms.Form) -> str:
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        return _("%(label)s：%(error)s") % {"label": label, "error": errors[0]} if label else str(errors[0])
    return _("请检查填写的内容。")
