from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kameng.catalog.models import GoodsKind
from kameng.payments.models import PayMethod


class OrderStatus(models.TextChoices):
    PENDING = "pending", _("待支付")
    PAID = "paid", _("已支付，待发货")
    DELIVERING = "delivering", _("充值处理中")
    DELIVERY_FAILED = "delivery_failed", _("充值失败")
    DELIVERED = "delivered", _("已发货")
    COMPLETED = "completed", _("已完成")
    REFUNDED = "refunded", _("已退款")
    CANCELLED = "cancelled", _("已取消")
    EXPIRED = "expired", _("已过期")


# An order in one of these states can still receive goods; refund and delivery exclude each other.
DELIVERABLE = {OrderStatus.PAID, OrderStatus.DELIVERING}


class Order(models.Model):
    no = models.CharField(_("订单号"), max_length=32, unique=True)
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders")
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="orders")
    seller = models.ForeignKey("catalog.Seller", on_delete=models.PROTECT, related_name="orders")
    kind = models.CharField(_("类型"), max_length=20, choices=GoodsKind.choices)
    quantity = models.PositiveIntegerField(_("数量"), default=1)
    unit_price = models.PositiveBigIntegerField(_("单价（分）"))
    amount = models.PositiveBigIntegerField(_("金额（分）"))
    pay_method = models.CharField(_("支付方式"), max_length=10, choices=PayMethod.choices)
    # For direct top-ups and memberships: the game account / phone number / member account to credit.
    target_account = models.CharField(_("充值账号"), max_length=80, blank=True)
    status = models.CharField(
        _("状态"), max_length=20, choices=OrderStatus.choices, default=OrderStatus.PENDING
    )
    created_at = models.DateTimeField(_("下单时间"), auto_now_add=True)
    expires_at = models.DateTimeField(_("支付截止"), null=True, blank=True)
    paid_at = models.DateTimeField(_("支付时间"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("发货时间"), null=True, blank=True)
    completed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    refunded_at = models.DateTimeField(_("退款时间"), null=True, blank=True)
    # The refund window before the order's money goes to its seller runs from here: its delivery,
    # or later while an open case held the money back. Null once settled or refunded, or while not
    # delivered: the tick reads only orders whose window has run out (see refunds.settlement).
    settlement_window_from = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("订单")
        verbose_name_plural = _("订单")
        indexes = [
            models.Index(fields=["buyer", "-created_at"]),
            models.Index(fields=["seller", "-created_at"]),
            models.Index(fields=["status", "expires_at"]),
            models.Index(
                fields=["settlement_window_from"],
                condition=Q(settlement_window_from__isnull=False),
                name="order_settlement_due",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="order_quantity_positive"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="order_amount_positive"),
        ]

    def __str__(self) -> str:
        return self.no

    @property
    def stream(self) -> str:
        return f"order:{self.pk}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("待发货")
    UNKNOWN = "unknown", _("结果未知")
    DELIVERED = "delivered", _("已发货")
    FAILED = "failed", _("发货失败")
    VOIDED = "voided", _("已作废（已退款）")


class Delivery(models.Model):
    """What the system knows about getting the goods to the buyer, whatever the kind."""

    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="delivery")
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    # direct_topup: the supplier's reference and last answer
    supplier_ref = models.CharField(max_length=64, blank=True)
    supplier_result = models.CharField(max_length=20, blank=True)
    supplier_message = models.CharField(max_length=200, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # activation
    activation_account = models.CharField(max_length=80, blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    # custom_service
    note = models.TextField(_("交付说明"), blank=True)
    file = models.FileField(_("交付文件"), upload_to="deliveries/%Y/%m/", blank=True)
    buyer_confirmed_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            # The tick asks the supplier again about these; the index holds only them.
            models.Index(fields=["status"], condition=Q(status="unknown"), name="delivery_result_unknown")
        ]
        verbose_name = _("发货记录")
        verbose_name_plural = _("发货记录")


class SupplierTopup(models.Model):
    """The sandbox supplier's record of a top-up request (the outside world's state)."""

    ref = models.CharField(max_length=64, unique=True)
    account = models.CharField(max_length=80)
    amount = models.PositiveBigIntegerField()
    result = models.CharField(max_length=10)  # success | failed | unknown
    created_at = models.DateTimeField(auto_now_add=True)
