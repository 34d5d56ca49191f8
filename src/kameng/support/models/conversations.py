"""Customer service (SPEC §8): one conversation per buyer and order (or one general conversation per
buyer), whatever channel each message came by; the help centre's answers; the promotions that make
a peak."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kameng.catalog.models import GoodsKind
from kameng.safety.masking import shown_to
from kameng.sentences import say


class Channel(models.TextChoices):
    WEB = "web", _("在线客服")
    EMAIL = "email", _("邮件")
    PHONE = "phone", _("电话")
    WECHAT = "wechat", _("微信公众号")
    PAY = "pay", _("支付渠道投诉")
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


class Department(models.TextChoices):
    """Where an agent hands a conversation that needs someone else (SPEC §8: transfer with a reason)."""

    TECH = "tech", _("技术核实")
    SELLER_RELATIONS = "seller", _("商家对接")
    FINANCE = "finance", _("财务")
    SUPERVISOR = "supervisor", _("主管")


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
    # A transfer: the department now holding it and why (shown to the buyer and in its queue).
    department = models.CharField(_("转交部门"), max_length=12, choices=Department.choices, blank=True)
    transfer_reason = models.CharField(_("转交原因"), max_length=200, blank=True)
    transferred_at = models.DateTimeField(null=True, blank=True)

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

    def text_for(self, viewer_id: int | None) -> str:
        """What `viewer_id` reads: a person's words with card numbers, ID numbers, codes and
        passwords masked, unless the viewer wrote them (SPEC §9); the system's sentences as they are."""
        if self.said:
            return say(self.said)
        return shown_to(
            self.body, author_is_viewer=self.author_id is not None and self.author_id == viewer_id
        )


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


class AgentSkill(models.Model):
    """What an agent is routed: conversations about one goods kind and/or from one channel (blank:
    any). Routing is opt-in: an agent with no skill is never handed conversations automatically,
    but may still take any by hand."""

    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="skills")
    goods_kind = models.CharField(_("商品类型"), max_length=20, choices=GoodsKind.choices, blank=True)
    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices, blank=True)

    class Meta:
        verbose_name = _("客服技能")
        verbose_name_plural = _("客服技能")
        constraints = [
            models.UniqueConstraint(fields=["agent", "goods_kind", "channel"], name="one_skill_row_per_agent")
        ]

    def __str__(self) -> str:
        any_ = str(_("不限"))
        return (
            f"{self.agent} · {self.get_goods_kind_display() or any_} · {self.get_channel_display() or any_}"
        )


class CannedReply(models.Model):
    """A reply agents insert and edit before sending. Variables in the text ({订单号}, {金额},
    {截止时间}, {工号}, {买家}) are filled in for the conversation at hand (support.desk.fill)."""

    title = models.CharField(_("标题"), max_length=60)
    text = models.TextField(_("内容"), help_text=_("可用变量：{订单号} {金额} {截止时间} {工号} {买家}"))
    is_active = models.BooleanField(_("启用"), default=True)
    position = models.PositiveSmallIntegerField(_("排序"), default=100)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("快捷回复")
        verbose_name_plural = _("快捷回复")

    def __str__(self) -> str:
        return self.title
