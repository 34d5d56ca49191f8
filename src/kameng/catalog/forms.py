from django import forms
from django.utils.translation import gettext_lazy as _

from .models import GoodsKind, Product
from .services import MAX_PER_ORDER, MAX_PRICE


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


# Fields that only some kinds of goods have. Card keys: stock is the imported keys themselves;
# direct top-ups: a face value credited to the account the buyer gives at checkout; memberships:
# the length of one unit (pro-rata refunds); custom services: the standard promised.
KIND_FIELDS = {
    GoodsKind.CARD_KEY: {"face_value_yuan"},
    GoodsKind.DIRECT_TOPUP: {"face_value_yuan", "stock"},
    GoodsKind.ACTIVATION: {"duration_days", "stock"},
    GoodsKind.CUSTOM_SERVICE: {"promise", "stock"},
}
KIND_SPECIFIC = set().union(*KIND_FIELDS.values())
EMPTY = {"face_value_yuan": None, "stock": None, "duration_days": None, "promise": ""}


class ProductForm(forms.ModelForm):
    """The seller's product form. It checks what a person typed; saving is catalog.services'
    (create_product / update_product with `product_fields()`), never the form's."""

    price_yuan = YuanField(label=_("售价（元）"), min_value=0.01, max_value=MAX_PRICE // 100)
    face_value_yuan = YuanField(label=_("面值（元）"), required=False, max_value=MAX_PRICE // 100)

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
        self.fields["max_per_order"].max_value = MAX_PER_ORDER

    def clean(self):
        """A field the kind does not have is dropped, whatever was typed in it (the page hides it,
        but a seller may have filled it under another kind before switching, or script is off)."""
        data = super().clean()
        kind = data.get("kind")
        if kind in KIND_FIELDS:
            for name in KIND_SPECIFIC - KIND_FIELDS[kind]:
                data[name] = EMPTY[name]
                self.errors.pop(name, None)  # nor is it refused for what it held
        return data

    def kinds_of(self, name: str) -> str:
        """The kinds a field belongs to, space-separated ("" for every kind): the page's data-kinds."""
        if name not in KIND_SPECIFIC:
            return ""
        return " ".join(kind for kind, names in KIND_FIELDS.items() if name in names)

    def rows(self):
        """(bound field, kinds) in display order, for the template (errors sit under each field)."""
        order = ["kind", "name", "description", "price_yuan", "face_value_yuan", "stock"]
        order += ["max_per_order", "promise", "duration_days", "is_active"]
        return [(self[name], self.kinds_of(name)) for name in order]

    def show_refusal(self, refusal) -> None:
        """Put a catalog.services.CatalogError on the fields it names (money on the 元 fields)."""
        on_form = {"price": "price_yuan", "face_value": "face_value_yuan"}
        for name, messages in (refusal.errors or {"__all__": [str(refusal)]}).items():
            field = on_form.get(name, name)
            for message in messages:
                self.add_error(field if field in self.fields else None, message)

    def product_fields(self) -> dict:
        """The valid form as catalog.services takes it: money in 分."""
        fields = {name: self.cleaned_data[name] for name in self.Meta.fields}
        fields["price"] = self.cleaned_data["price_yuan"]
        fields["face_value"] = self.cleaned_data.get("face_value_yuan") or 0
        return fields


class KeyImportForm(forms.Form):
    text = forms.CharField(
        label=_("粘贴卡密（每行一条）"), widget=forms.Textarea(attrs={"rows": 6}), required=False
    )
    file = forms.FileField(label=_("或上传 TXT/CSV 文件"), required=False)
    has_header = forms.BooleanField(label=_("第一行是表头（如“卡号,密码”），不导入"), required=False)

    def clean(self):
        data = super().clean()
        if not data.get("text", "").strip() and not data.get("file"):
            raise forms.ValidationError(_("请粘贴卡密或上传文件。"))
        f = data.get("file")
        if f and f.size > 2 * 1024 * 1024:
            raise forms.ValidationError(_("文件不能超过 2MB。"))
        return data


class KeyImportConfirmForm(forms.Form):
    draft = forms.UUIDField(widget=forms.HiddenInput)
