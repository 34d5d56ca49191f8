"""Money coming in (payments, top-ups), money going back through the gateway, and the sandbox
gateway's own records. The tables keep the names they had when these models lived in orders
(moved without copying: see migrations/0001_initial.py)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class PayMethod(models.TextChoices):
    BALANCE = "balance", _("余额支付")
    GATEWAY = "gateway", _("在线支付")


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
    # Named, not imported: payments sits below orders and learns about an order only through this key.
    order = models.ForeignKey(
        "orders.Order", null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
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
        db_table = "orders_payment"
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
        db_table = "orders_gatewayrefund"
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

    class Meta:
        db_table = "orders_sandboxtrade"


class SandboxRefund(models.Model):
    key = models.CharField(max_length=80, unique=True)
    trade_no = models.CharField(max_length=64)
    amount = models.PositiveBigIntegerField()
    refund_no = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "orders_sandboxrefund"
