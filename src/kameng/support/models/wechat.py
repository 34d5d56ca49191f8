"""WeChat official account (SPEC §8, §12): what followers sent, their bindings, the replies out."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .conversations import Conversation, Message

# --- WeChat official account (SPEC §8, §12) ---------------------------------------------------------


class WeChatInbound(models.Model):
    """Everything WeChat posted to /channels/wechat/, kept whoever sent it (bound or not). The door only
    inserts the row (WeChat wants an answer within 5 seconds); a task handles it afterwards."""

    class Outcome(models.TextChoices):
        PENDING = "pending", _("待处理")
        MESSAGE = "message", _("已转入会话")
        BOUND = "bound", _("已绑定")
        BIND_FAILED = "bind_failed", _("绑定码错误")
        BIND_LOCKED = "bind_locked", _("绑定尝试过多")
        HINT = "hint", _("已回复绑定方法")
        IGNORED = "ignored", _("无需处理")

    openid = models.CharField(_("粉丝 openid"), max_length=64)
    # WeChat's MsgId (a 64-bit number, kept as text); events carry none.
    msg_id = models.CharField(max_length=32, blank=True)
    msg_type = models.CharField(_("消息类型"), max_length=20)
    event = models.CharField(max_length=40, blank=True)
    content = models.TextField(_("内容"), blank=True)
    media_id = models.CharField(max_length=128, blank=True)
    # CreateTime as WeChat sent it (seconds since the epoch): with the openid it names an event once.
    created_time = models.BigIntegerField()
    raw = models.TextField(blank=True)
    received_at = models.DateTimeField(_("收到时间"), default=timezone.now)
    conversation = models.ForeignKey(
        Conversation, null=True, blank=True, on_delete=models.PROTECT, related_name="wechat_inbound"
    )
    outcome = models.CharField(_("处理结果"), max_length=12, choices=Outcome.choices, default=Outcome.PENDING)
    handled_at = models.DateTimeField(null=True, blank=True)
    # When the tick hands it to a task again if it is still pending (its task was lost or failed),
    # and how many times it did: the wait doubles, so a message that keeps failing does not spin.
    retry_at = models.DateTimeField(null=True, blank=True)
    tries = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["id"]
        verbose_name = _("微信公众号来信")
        verbose_name_plural = _("微信公众号来信")
        constraints = [
            models.UniqueConstraint(fields=["msg_id"], condition=~Q(msg_id=""), name="wechat_msg_id_once"),
            models.UniqueConstraint(
                fields=["openid", "created_time"], condition=Q(msg_id=""), name="wechat_event_once"
            ),
        ]
        indexes = [
            models.Index(fields=["outcome", "retry_at"]),
            models.Index(fields=["openid", "received_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.openid} {self.msg_type}"


class WeChatBinding(models.Model):
    """A follower of the official account who is this buyer: their WeChat messages join the buyer's
    conversation. One WeChat per buyer and one buyer per WeChat."""

    openid = models.CharField(_("粉丝 openid"), max_length=64, unique=True)
    buyer = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="wechat_binding"
    )
    bound_at = models.DateTimeField(_("绑定时间"), default=timezone.now)

    class Meta:
        verbose_name = _("微信绑定")
        verbose_name_plural = _("微信绑定")

    def __str__(self) -> str:
        return f"{self.buyer} ↔ {self.openid}"


class WeChatBindCode(models.Model):
    """A 6-digit code a buyer got on the binding page, sent back to the official account as
    "绑定 123456". Kept as a keyed hash only; valid for 10 minutes and once."""

    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    code_hash = models.CharField(max_length=64, db_index=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.buyer} {self.expires_at:%Y-%m-%d %H:%M}"


class WeChatOutbound(models.Model):
    """A text for a follower, written in the same transaction as what caused it and sent after commit
    through WeChat's customer-service message interface; retried with backoff until sent or failed."""

    class State(models.TextChoices):
        PENDING = "pending", _("待发送")
        SENT = "sent", _("已发送")
        FAILED = "failed", _("发送失败")

    openid = models.CharField(max_length=64)
    conversation = models.ForeignKey(
        Conversation, null=True, blank=True, on_delete=models.PROTECT, related_name="wechat_outbound"
    )
    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    text = models.TextField()
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(_("失败原因"), max_length=300, blank=True)
    next_try_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        verbose_name = _("微信公众号回复")
        verbose_name_plural = _("微信公众号回复")
        indexes = [models.Index(fields=["state", "next_try_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["message", "openid"], condition=Q(message__isnull=False), name="wechat_message_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.openid} {self.state}"
