"""The support mailbox (SPEC §8 Email): every mail as it arrived, and every reply that left."""

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kameng.sentences import say

from .conversations import Conversation, Message


def new_reply_token() -> str:
    """The secret part of a reply address (support+<token>@…): 128 random bits, lower-case hex so a
    mail server that lower-cases addresses does not break it."""
    return secrets.token_hex(16)


class InboundMail(models.Model):
    """One mail as it arrived (SMTP listener or IMAP), raw bytes first: parsing and filing it into a
    conversation come after, so a crash loses nothing and the row can be processed again."""

    class State(models.TextChoices):
        RECEIVED = "received", _("待处理")
        FILED = "filed", _("已归入会话")
        IDENTITY = "identity", _("身份待核实")
        DUPLICATE = "duplicate", _("重复投递")
        FAILED = "failed", _("处理失败")

    class Source(models.TextChoices):
        SMTP = "smtp", _("SMTP")
        IMAP = "imap", _("IMAP")

    source = models.CharField(_("来源"), max_length=10, choices=Source.choices)
    # An IMAP mail's mailbox, UIDVALIDITY and UID: fetched twice, stored once.
    source_ref = models.CharField(max_length=300, unique=True, null=True, blank=True)
    envelope_from = models.CharField(max_length=320, blank=True)
    recipients = models.TextField(blank=True)
    raw = models.BinaryField(_("原始邮件"))
    size = models.PositiveIntegerField(default=0)
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.RECEIVED)
    msgid = models.CharField(_("Message-ID"), max_length=998, blank=True)
    # Set only on the copy that was filed: a second delivery of the same Message-ID cannot take it.
    message_key = models.CharField(max_length=255, unique=True, null=True, blank=True)
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # In-Reply-To and References as received, space-separated: a reply is matched to what we sent.
    references = models.TextField(blank=True)
    sender = models.CharField(_("发件人"), max_length=320, blank=True)
    sender_name = models.CharField(max_length=200, blank=True)
    subject = models.CharField(_("主题"), max_length=500, blank=True)
    text = models.TextField(_("正文"), blank=True)
    # What a person must look at (undecodable text, a mail too big to read, a refused attachment):
    # a list of stored sentences (kameng.sentences), shown in the reader's language.
    needs_review = models.BooleanField(_("需人工查看"), default=False)
    problems = models.JSONField(default=list, blank=True)
    attachments = models.JSONField(default=list, blank=True, help_text=_("附件名、类型、大小"))
    throttled = models.BooleanField(_("发信过频"), default=False)
    urgent = models.BooleanField(_("紧急"), default=False)
    conversation = models.ForeignKey(
        Conversation, null=True, blank=True, on_delete=models.PROTECT, related_name="inbound_mails"
    )
    message = models.OneToOneField(
        Message, null=True, blank=True, on_delete=models.PROTECT, related_name="inbound_mail"
    )
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(_("核实时间"), null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("来信")
        verbose_name_plural = _("来信")
        indexes = [
            models.Index(fields=["sender", "received_at"]),
            models.Index(fields=["state", "needs_review"]),
        ]

    def __str__(self) -> str:
        return f"{self.sender} {self.subject[:40]}"

    def references_list(self) -> list[str]:
        return self.references.split()

    def problem_texts(self) -> list[str]:
        return [say(p) for p in self.problems]


class OutboundMail(models.Model):
    """A reply that goes out by email: written in the same transaction as the message, sent after
    commit by the tick, retried with backoff. Its Message-ID and reply token bring the answer back."""

    class State(models.TextChoices):
        PENDING = "pending", _("待发送")
        SENT = "sent", _("已发送")
        FAILED = "failed", _("发送失败")

    message = models.OneToOneField(Message, on_delete=models.PROTECT, related_name="outbound_mail")
    conversation = models.ForeignKey(Conversation, on_delete=models.PROTECT, related_name="outbound_mails")
    to_address = models.CharField(max_length=320)
    subject = models.CharField(max_length=500)
    msgid = models.CharField(_("Message-ID"), max_length=255, unique=True)
    reply_token = models.CharField(max_length=32, unique=True, default=new_reply_token)
    in_reply_to = models.CharField(max_length=998, blank=True)
    references = models.TextField(blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("外发邮件")
        verbose_name_plural = _("外发邮件")
        indexes = [models.Index(fields=["state", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.to_address} {self.subject[:40]}"
