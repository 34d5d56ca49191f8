from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kameng.catalog.models import GoodsKind

# CardKey moved to kameng.inventory (same table). The names stay importable from here only for the
# modules owned by the refund-core rewrite (orders/aftersales.py, kameng.refunds), which this change
# may not edit; new code imports them from inventory.
from kameng.inventory.models import CardKey, CardKeyStatus  # noqa: F401


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


class PayMethod(models.TextChoices):
    BALANCE = "balance", _("余额支付")
    GATEWAY = "gateway", _("在线支付")


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

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("订单")
        verbose_name_plural = _("订单")
        indexes = [
            models.Index(fields=["buyer", "-created_at"]),
            models.Index(fields=["seller", "-created_at"]),
            models.Index(fields=["status", "expires_at"]),
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


class PaymentStatus(models.TextChoices):
    CREATED = "created", _("待支付")
    SUCCEEDED = "succeeded", _("支付成功")
    FAILED = "failed", _("支付失败")


class Payment(models.Model):
    """Money that came in: for an order (by balance or gateway) or a wallet top-up (gateway).

    More than one succeeded payment for one order is a duplicate payment (SPEC §4).
    """

    class Purpose(models.TextChoices):
        ORDER = "order", _("订单支付")
        TOPUP = "topup", _("余额充值")

    out_trade_no = models.CharField(_("商户单号"), max_length=40, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payments")
    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.PROTECT, related_name="payments")
    purpose = models.CharField(max_length=10, choices=Purpose.choices)
    method = models.CharField(max_length=10, choices=PayMethod.choices)
    gateway = models.CharField(max_length=20, blank=True)
    gateway_trade_no = models.CharField(_("通道流水号"), max_length=64, null=True, blank=True)
    amount = models.PositiveBigIntegerField(_("金额（分）"))
    status = models.CharField(max_length=10, choices=PaymentStatus.choices, default=PaymentStatus.CREATED)
    # The order could no longer take the money (expired/cancelled/refunded): it went to the buyer's balance.
    credited_to_balance = models.BooleanField(default=False)
    callbacks = models.PositiveIntegerField(_("回调次数"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("支付")
        verbose_name_plural = _("支付")
        constraints = [
            models.UniqueConstraint(
                fields=["gateway", "gateway_trade_no"],
                name="payment_gateway_trade_unique",
                condition=Q(gateway_trade_no__isnull=False),
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
        ]

    def __str__(self) -> str:
        return self.out_trade_no


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
        verbose_name = _("发货记录")
        verbose_name_plural = _("发货记录")


class GatewayRefund(models.Model):
    """A refund sent back through the gateway. The row id is the gateway's idempotency key, and a
    failed attempt is kept so the retry reuses it: money never goes back twice."""

    class Status(models.TextChoices):
        PENDING = "pending", _("处理中")
        SUCCEEDED = "succeeded", _("已退回")
        FAILED = "failed", _("失败，待重试")

    key = models.CharField(max_length=80, unique=True)
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="gateway_refunds")
    amount = models.PositiveBigIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=200, blank=True)
    gateway_refund_no = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("原路退款")
        verbose_name_plural = _("原路退款")


class SandboxTrade(models.Model):
    """The sandbox gateway's own record of a trade (the outside world's state, not ours)."""

    class Status(models.TextChoices):
        WAITING = "waiting", _("等待支付")
        PAID = "paid", _("已支付")
        FAILED = "failed", _("支付失败")

    out_trade_no = models.CharField(max_length=40, unique=True)
    subject = models.CharField(max_length=120, blank=True)
    amount = models.PositiveBigIntegerField()
    paid_amount = models.PositiveBigIntegerField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.WAITING)
    trade_no = models.CharField(max_length=64, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    callbacks_sent = models.PositiveIntegerField(default=0)
    acknowledged = models.BooleanField(default=False)


class SandboxRefund(models.Model):
    key = models.CharField(max_length=80, unique=True)
    trade_no = models.CharField(max_length=64)
    amount = models.PositiveBigIntegerField()
    refund_no = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)


class SupplierTopup(models.Model):
    """The sandbox supplier's record of a top-up request (the outside world's state)."""

    ref = models.CharField(max_length=64, unique=True)
    account = models.CharField(max_length=80)
    amount = models.PositiveBigIntegerField()
    result = models.CharField(max_length=10)  # success | failed | unknown
    created_at = models.DateTimeField(auto_now_add=True)
