"""Customer service (SPEC §8): one conversation per buyer and order (or one general conversation per
buyer), whatever channel each message came by; the help centre's answers; the promotions that make
a peak."""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kameng.sentences import say


class Channel(models.TextChoices):
    WEB = "web", _("在线客服")
    EMAIL = "email", _("邮件")
    PHONE = "phone", _("电话")
    WECHAT = "wechat", _("微信公众号")
    SYSTEM = "system", _("系统")


class AuthorKind(models.TextChoices):
    BUYER = "buyer", _("买家")
    AGENT = "agent", _("客服")
    SELLER = "seller", _("卖家")
    SYSTEM = "system", _("系统")


class ConversationState(models.TextChoices):
    SELF_SERVICE = "self_service", _("自助解答")
    QUEUED = "queued", _("排队等待人工客服")
    WITH_AGENT = "with_agent", _("人工客服处理中")
    CLOSED = "closed", _("已结束")


class Conversation(models.Model):
    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="conversations"
    )
    order = models.ForeignKey(
        "orders.Order", null=True, blank=True, on_delete=models.PROTECT, related_name="conversations"
    )
    state = models.CharField(
        _("状态"), max_length=20, choices=ConversationState.choices, default=ConversationState.SELF_SERVICE
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    urgent = models.BooleanField(_("紧急"), default=False)
    queued_at = models.DateTimeField(_("转人工时间"), null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    last_message_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("客服会话")
        verbose_name_plural = _("客服会话")
        constraints = [
            models.UniqueConstraint(fields=["buyer", "order"], name="one_conversation_per_order"),
            models.UniqueConstraint(
                fields=["buyer"], condition=Q(order__isnull=True), name="one_general_conversation"
            ),
        ]
        indexes = [
            # The queue: who waits, oldest first.
            models.Index(fields=["state", "queued_at"]),
            models.Index(fields=["buyer", "-last_message_at"]),
        ]

    def __str__(self) -> str:
        return str(_("会话 #%(pk)s") % {"pk": self.pk})


class Message(models.Model):
    conversation = models.ForeignKey(Conversation, on_delete=models.PROTECT, related_name="messages")
    # The sender's own id for this message: a retry of the same message is stored once.
    client_id = models.CharField(max_length=64, blank=True)
    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices, default=Channel.WEB)
    author_kind = models.CharField(_("发送方"), max_length=10, choices=AuthorKind.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    internal = models.BooleanField(_("内部备注"), default=False, help_text=_("只有客服能看到"))
    body = models.TextField(_("内容"), blank=True)
    link = models.CharField(max_length=200, blank=True, help_text=_("系统回答附带的链接（如退款申请页）"))
    # What the system says (an answer from the facts, a notice of the queue) is a sentence shown in
    # the reader's language (kameng.sentences); a person's words are `body`, shown as written.
    said = models.JSONField(default=str, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "client_id"],
                condition=~Q(client_id=""),
                name="message_once_per_client_id",
            ),
        ]

    def __str__(self) -> str:
        return self.text[:50]

    @property
    def text(self) -> str:
        return say(self.said) if self.said else self.body


class Answer(models.Model):
    """A help-centre question and its answer, edited by admins; the chat answers from these first."""

    question = models.CharField(_("问题"), max_length=200)
    answer = models.TextField(_("回答"))
    keywords = models.CharField(_("其他问法/关键词"), max_length=300, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    position = models.PositiveSmallIntegerField(_("排序"), default=100)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("帮助中心问答")
        verbose_name_plural = _("帮助中心问答")

    def __str__(self) -> str:
        return self.question


class Promotion(models.Model):
    """A sale the platform runs: the line is expected to be longer while it lasts."""

    name = models.CharField(_("活动名称"), max_length=100)
    starts_at = models.DateTimeField(_("开始"))
    ends_at = models.DateTimeField(_("结束"))

    class Meta:
        ordering = ["-starts_at"]
        verbose_name = _("促销活动")
        verbose_name_plural = _("促销活动")

    def __str__(self) -> str:
        return self.name


class Presence(models.Model):
    """Whether an agent is taking conversations now; the wait estimate counts the agents online."""

    class Status(models.TextChoices):
        ONLINE = "online", _("在线")
        AWAY = "away", _("离开")

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="presence")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ONLINE)
    seen_at = models.DateTimeField()

    class Meta:
        verbose_name = _("客服在线状态")
        verbose_name_plural = _("客服在线状态")

    def __str__(self) -> str:
        return f"{self.user} {self.status}"


class Call(models.Model):
    """A phone call an agent had with the buyer, logged in the buyer's conversation."""

    class Direction(models.TextChoices):
        INBOUND = "in", _("来电")
        OUTBOUND = "out", _("去电")

    conversation = models.ForeignKey(Conversation, on_delete=models.PROTECT, related_name="calls")
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    direction = models.CharField(_("方向"), max_length=3, choices=Direction.choices)
    number = models.CharField(_("号码"), max_length=30)
    summary = models.TextField(_("通话摘要"))
    at = models.DateTimeField(_("通话时间"))

    class Meta:
        ordering = ["-at"]
        verbose_name = _("通话记录")
        verbose_name_plural = _("通话记录")

    def __str__(self) -> str:
        return f"{self.get_direction_display()} {self.number}"


class Commitment(models.Model):
    """Something promised to a buyer with a deadline ("18:00 前回电", a call-back the buyer booked):
    the agent is reminded before it is due and a supervisor is told when it is missed."""

    class Kind(models.TextChoices):
        PROMISE = "promise", _("承诺")
        CALLBACK = "callback", _("预约回电")

    class State(models.TextChoices):
        OPEN = "open", _("待兑现")
        KEPT = "kept", _("已兑现")
        MISSED = "missed", _("已逾期")

    conversation = models.ForeignKey(Conversation, on_delete=models.PROTECT, related_name="commitments")
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices, default=Kind.PROMISE)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("作出承诺的客服；买家预约的回电在认领前为空"),
    )
    text = models.CharField(_("承诺内容"), max_length=200)
    phone = models.CharField(_("回电号码"), max_length=30, blank=True)
    due_at = models.DateTimeField(_("最晚"))
    remind_at = models.DateTimeField()
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.OPEN)
    reminded_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_at"]
        verbose_name = _("承诺")
        verbose_name_plural = _("承诺")
        indexes = [models.Index(fields=["state", "remind_at"]), models.Index(fields=["state", "due_at"])]

    def __str__(self) -> str:
        return self.text


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


class MessageAttachment(models.Model):
    """A file sent with a message (image, voice note, video, file). Checked by its bytes; images are
    re-encoded so that no script or metadata (EXIF location, comments) rides along. A file that was
    refused (a mail's disguised attachment) is kept as a row with its name and the reason, no file."""

    class Kind(models.TextChoices):
        IMAGE = "image", _("图片")
        VOICE = "voice", _("语音")
        VIDEO = "video", _("视频")
        FILE = "file", _("文件")

    message = models.ForeignKey(Message, on_delete=models.PROTECT, related_name="attachments")
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    file = models.FileField(upload_to="chat/%Y/%m/", blank=True)
    original_name = models.CharField(_("文件名"), max_length=200)
    content_type = models.CharField(max_length=60, blank=True)
    size = models.PositiveIntegerField(default=0)
    # The digest of the bytes as received (evidence), and of what is stored (after re-encoding).
    original_sha256 = models.CharField(max_length=64, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    refused = models.CharField(_("未保存原因"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("消息附件")
        verbose_name_plural = _("消息附件")

    def __str__(self) -> str:
        return self.original_name
