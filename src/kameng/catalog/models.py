from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


class GoodsKind(models.TextChoices):
    CARD_KEY = "card_key", _("标准化卡密")
    DIRECT_TOPUP = "direct_topup", _("直充")
    ACTIVATION = "activation", _("会员/软件授权")
    CUSTOM_SERVICE = "custom_service", _("定制服务")


class Seller(models.Model):
    """A merchant: a third party, or the platform itself (`is_platform`)."""

    name = models.CharField(_("店铺名"), max_length=80, unique=True)
    is_platform = models.BooleanField(_("平台自营"), default=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="sellers",
        verbose_name=_("店主账号"),
    )
    contact_phone = models.CharField(_("联系电话"), max_length=30, blank=True)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    # Replacements (补发) a seller grants automatically before a person must look (SPEC §4).
    max_auto_replacements = models.PositiveIntegerField(_("自动补发上限"), default=20)
    is_active = models.BooleanField(_("营业中"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("卖家")
        verbose_name_plural = _("卖家")

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    seller = models.ForeignKey(
        Seller, on_delete=models.PROTECT, related_name="products", verbose_name=_("卖家")
    )
    kind = models.CharField(_("类型"), max_length=20, choices=GoodsKind.choices)
    name = models.CharField(_("商品名"), max_length=120)
    description = models.TextField(_("描述"), blank=True)
    face_value = models.PositiveBigIntegerField(_("面值（分）"), default=0)
    price = models.PositiveBigIntegerField(_("售价（分）"))
    # Stock for kinds without card keys; null means not limited. Card-key stock is the count of free keys.
    stock = models.PositiveIntegerField(_("库存"), null=True, blank=True)
    max_per_order = models.PositiveIntegerField(_("每单限购"), default=5)
    # The standard a custom service promises ("查重率低于15%"), shown on the listing and quoted in disputes.
    promise = models.CharField(_("服务承诺"), max_length=200, blank=True)
    # Memberships: length of one unit, for pro-rata refunds.
    duration_days = models.PositiveIntegerField(_("会员天数"), null=True, blank=True)
    is_active = models.BooleanField(_("上架"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("商品")
        verbose_name_plural = _("商品")
        constraints = [models.CheckConstraint(condition=models.Q(price__gt=0), name="product_price_positive")]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        super().clean()
        # Keys, deliveries and refund rules all follow the kind: once keys were loaded or the
        # product was sold, a different kind is a different product.
        if self.pk is None:
            return
        stored = type(self).objects.filter(pk=self.pk).values_list("kind", flat=True).first()
        if stored is not None and stored != self.kind and (self.card_keys.exists() or self.orders.exists()):
            raise ValidationError({"kind": _("已有卡密或订单的商品不能更改类型，请新建一个商品。")})

    @property
    def is_card_key(self) -> bool:
        return self.kind == GoodsKind.CARD_KEY
