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


class RefundState(models.TextChoices):
    """How much of an order's money went back, derived from the ledger (never stored): what the
    order's escrow and its payee still hold for it, against what the goods cost."""

    NONE = "none", _("未退款")
    PARTLY = "partly_refunded", _("部分退款")
    FULLY = "refunded", _("已退款")


def refund_state_of(*, status: str, paid: bool, amount: int, money_left: int) -> RefundState:
    """`money_left`: what the order's escrow and payee still hold for it (Refundable.total). Money
    beyond the price (a duplicate payment) is not the goods' money: refunding it refunds no goods."""
    if status == OrderStatus.REFUNDED:
        return RefundState.FULLY
    if not paid:
        return RefundState.NONE
    if money_left <= 0:
        return RefundState.FULLY
    if money_left < amount:
        return RefundState.PARTLY
    return RefundState.NONE


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
    # The refund clauses the buyer confirmed at checkout, as shown then:
    # [{"number": 4, "version": 1, "title": "未查看卡密"}, ...]; empty for an order placed without
    # the checkout (a script, or before terms were shown).
    accepted_terms = models.JSONField(_("已确认的退款条款"), default=list, blank=True)
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

    @property
    def refund_state(self) -> RefundState:
        """Read from `money_left`, which orders.selectors.with_money_left annotates (lists do, so
        a page of orders costs one query); otherwise asked from the ledger (one query)."""
        left = getattr(self, "money_left", None)
        if left is None:
            from kameng.wallet.selectors import money_left

            left = money_left(reference=self.no)
        return refund_state_of(
            status=self.status, paid=self.paid_at is not None, amount=self.amount, money_left=left
        )

    def get_shown_status_display(self) -> str:
        """The status people read: 已退款 / 部分退款 win over the delivery status they came after."""
        state = self.refund_state
        return str(self.get_status_display() if state == RefundState.NONE else state.label)


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("待发货")
    UNKNOWN = "unknown", _("结果未知")
    DELIVERED = "delivered", _("已发货")
    FAILED = "failed", _("发货失败")
    VOIDED = "voided", _("已作废（已退款）")


class SupplierResult(models.TextChoices):
    """A direct top-up supplier's answer."""

    SUCCESS = "success", _("成功")
    FAILED = "failed", _("失败")
    UNKNOWN = "unknown", _("结果未知")


class Delivery(models.Model):
    """What the system knows about getting the goods to the buyer, whatever the kind."""

    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="delivery")
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    # direct_topup: the supplier's reference and last answer
    supplier_ref = models.CharField(max_length=64, blank=True)
    supplier_result = models.CharField(max_length=20, choices=SupplierResult.choices, blank=True)
    supplier_message = models.CharField(max_length=200, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # An unknown top-up is asked about again once this time has passed (backoff, see
    # rechecks.due_topup_rechecks); null: due now.
    next_check_at = models.DateTimeField(null=True, blank=True)
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
        indexes = [
            # The tick's query: unknown top-ups by when they may be asked about again.
            models.Index(fields=["next_check_at"], name="delivery_recheck_due", condition=Q(status="unknown"))
        ]


class SupplierTopup(models.Model):
    """The sandbox supplier's record of a top-up request (the outside world's state)."""

    ref = models.CharField(max_length=64, unique=True)
    account = models.CharField(max_length=80)
    amount = models.PositiveBigIntegerField()
    result = models.CharField(max_length=10)  # success | failed | unknown
    created_at = models.DateTimeField(auto_now_add=True)
