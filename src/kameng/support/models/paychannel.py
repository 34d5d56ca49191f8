"""Payment-channel complaints (SPEC §8: WeChat Pay 消费者投诉, Alipay 交易投诉)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .conversations import Conversation

# --- payment-channel complaints (SPEC §8: WeChat Pay 消费者投诉, Alipay 交易投诉) ------------------


class PayChannel(models.TextChoices):
    WECHATPAY = "wechatpay", _("微信支付")
    ALIPAY = "alipay", _("支付宝")


class DeadlineUnit(models.TextChoices):
    HOURS = "hours", _("小时")
    DAYS = "days", _("天（按自然日 24 小时计）")
    END_OF_DAY = "end_of_day", _("第 N 天结束前（北京时间 24:00）")


class ChannelComplaintRule(models.Model):
    """A payment channel's own deadlines for one kind of complaint, kept as data (admins edit them
    when the channel changes its rules); a complaint's deadlines are computed from it on arrival."""

    channel = models.CharField(_("支付渠道"), max_length=20, choices=PayChannel.choices)
    kind = models.CharField(_("投诉类型代码"), max_length=30, help_text=_("渠道通知里的 complaint_type"))
    name = models.CharField(_("名称"), max_length=60)
    first_reply = models.PositiveSmallIntegerField(_("首次回复时限"))
    first_reply_unit = models.CharField(_("单位"), max_length=12, choices=DeadlineUnit.choices)
    resolve = models.PositiveSmallIntegerField(_("处理完结时限"))
    resolve_unit = models.CharField(_("单位"), max_length=12, choices=DeadlineUnit.choices)
    is_default = models.BooleanField(_("该渠道的默认类型"), default=False)
    note = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        ordering = ["channel", "kind"]
        verbose_name = _("支付渠道投诉时限")
        verbose_name_plural = _("支付渠道投诉时限")
        constraints = [
            models.UniqueConstraint(fields=["channel", "kind"], name="complaint_rule_unique"),
            models.UniqueConstraint(
                fields=["channel"], condition=Q(is_default=True), name="complaint_rule_one_default"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ChannelComplaint(models.Model):
    """A buyer's complaint to the payment channel about an order, as the channel notified us. It
    joins the order's conversation and refund case; replies, the refund and completion go back to
    the channel through `ChannelCall` rows."""

    class State(models.TextChoices):
        OPEN = "open", _("待回复")
        REPLIED = "replied", _("已回复，处理中")
        COMPLETING = "completing", _("已退款，正在通知渠道完结")
        COMPLETED = "completed", _("已完结")

    channel = models.CharField(_("支付渠道"), max_length=20, choices=PayChannel.choices)
    complaint_id = models.CharField(_("渠道投诉单号"), max_length=64)
    kind = models.CharField(_("投诉类型"), max_length=30)
    rule = models.ForeignKey(ChannelComplaintRule, null=True, on_delete=models.SET_NULL, related_name="+")
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="channel_complaints")
    payment_ref = models.CharField(_("商户单号"), max_length=40)
    conversation = models.ForeignKey(
        Conversation, on_delete=models.PROTECT, related_name="channel_complaints"
    )
    case = models.ForeignKey(
        "refunds.RefundCase", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    buyer_text = models.TextField(_("投诉内容"), blank=True)
    amount = models.PositiveBigIntegerField(_("诉求金额（分）"), default=0)
    channel_state = models.CharField(_("渠道状态"), max_length=30, blank=True)
    state = models.CharField(_("状态"), max_length=12, choices=State.choices, default=State.OPEN)
    complained_at = models.DateTimeField(_("投诉时间"))
    first_reply_due = models.DateTimeField(_("首次回复截止"))
    resolve_due = models.DateTimeField(_("处理完结截止"))
    replied_at = models.DateTimeField(_("首次回复时间"), null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(_("完结时间"), null=True, blank=True)
    raw = models.JSONField(_("渠道原始通知"), default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["first_reply_due", "id"]
        verbose_name = _("支付渠道投诉")
        verbose_name_plural = _("支付渠道投诉")
        constraints = [
            models.UniqueConstraint(fields=["channel", "complaint_id"], name="channel_complaint_once"),
        ]
        indexes = [
            models.Index(fields=["state", "first_reply_due"]),
            models.Index(fields=["state", "resolve_due"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.complaint_id}"


class ChannelCall(models.Model):
    """One call to the payment channel about a complaint (reply, refund, complete): written in the
    transaction that decided it, sent after commit in order, retried until the channel accepts it.
    `key` is the idempotency key the channel deduplicates on, so a retry is never a second reply."""

    class Action(models.TextChoices):
        REPLY = "reply", _("回复")
        REFUND = "refund", _("告知退款")
        COMPLETE = "complete", _("完结")

    complaint = models.ForeignKey(ChannelComplaint, on_delete=models.PROTECT, related_name="calls")
    key = models.CharField(max_length=80, unique=True)
    action = models.CharField(_("动作"), max_length=10, choices=Action.choices)
    text = models.CharField(_("回复内容"), max_length=200, blank=True)
    amount = models.PositiveBigIntegerField(default=0)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=200, blank=True)
    next_attempt_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"], condition=Q(sent_at__isnull=True), name="channel_call_due"
            )
        ]


class SandboxChannelCall(models.Model):
    """The sandbox payment channel's own record of what the merchant told it (the outside world's
    state, not ours): it deduplicates on `key` and refuses to complete a complaint with no refund."""

    key = models.CharField(max_length=80, unique=True)
    channel = models.CharField(max_length=20)
    complaint_id = models.CharField(max_length=64)
    action = models.CharField(max_length=10)
    text = models.CharField(max_length=200, blank=True)
    amount = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
