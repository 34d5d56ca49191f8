from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Product


class YuanField(forms.DecimalField):
    """Money typed in 元, returned in integer 分."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 10)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("min_value", 0)
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        return None if value is None else int(value * 100)


class ProductForm(forms.ModelForm):
    price_yuan = YuanField(label=_("售价（元）"), min_value=0.01, max_value=100000)
    face_value_yuan = YuanField(label=_("面值（元）"), required=False, max_value=100000)

    class Meta:
        model = Product
        fields = [
            "kind",
            "name",
            "description",
            "stock",
            "max_per_order",
            "promise",
            "duration_days",
            "is_active",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["price_yuan"].initial = self.instance.price / 100
            self.fields["face_value_yuan"].initial = self.instance.face_value / 100
        self.fields["max_per_order"].min_value = 1
        self.fields["max_per_order"].max_value = 100

    def save(self, commit=True):
        self.instance.price = self.cleaned_data["price_yuan"]
        self.instance.face_value = self.cleaned_data.get("face_value_yuan") or 0
        return super().save(commit)


class KeyImportForm(forms.Form):
    text = forms.CharField(
        label=_("粘贴卡密（每行一条）"), widget=forms.Textarea(attrs={"rows": 6}), required=False
    )
    file = forms.FileField(label=_("或上传 TXT/CSV 文件"), required=False)

    def clean(self):
        data = super().clean()
        if not data.get("text", "").strip() and not data.get("file"):
            raise forms.ValidationError(_("请粘贴卡密或上传文件。"))
        f = data.get("file")
        if f and f.size > 2 * 1024 * 1024:
            raise forms.ValidationError(_("文件不能超过 2MB。"))
        return data
