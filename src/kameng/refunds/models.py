from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kameng.sentences import say


class Reason(models.TextChoices):
    NOT_RECEIVED = "not_received", _("未到账/未发货")
    DUPLICATE_PAYMENT = "duplicate_payment", _("重复支付")
    INVALID_KEY = "invalid_key", _("卡密无效/已被使用")
    NOT_WORKING = "not_working", _("功能异常")
    NOT_AS_DESCRIBED = "not_as_described", _("服务不符")
    OTHER = "other", _("其他")


class Demand(models.TextChoices):
    FULL_REFUND = "full_refund", _("全额退款")
    PARTIAL_REFUND = "partial_refund", _("部分退款")
    REPLACEMENT = "replacement", _("更换商品")


class Stage(models.TextChoices):
    SUBMITTED = "submitted", _("已提交")
    VERIFYING = "verifying", _("系统核验中")
    AWAITING_SELLER = "awaiting_seller", _("等待卖家处理")
    PLATFORM_REVIEW = "platform_review", _("平台审核中")
    NEEDS_INFO = "needs_info", _("待补充材料")
    APPROVED = "approved", _("已同意退款")
    PARTIALLY_APPROVED = "partially_approved", _("已同意部分退款")
    REPLACEMENT = "replacement", _("已补发")
    REJECTED = "rejected", _("已驳回")
    APPEALED = "appealed", _("申诉中")
    FINANCE_REVIEW = "finance_review", _("财务复核中")
    REFUNDING = "refunding", _("退款中")
    REFUNDED = "refunded", _("已退款")
    CANCELLED = "cancelled", _("已撤销")


class Holder(models.TextChoices):
    SYSTEM = "system", _("系统")
    SELLER = "seller", _("卖家")
    AGENT = "agent", _("客服")
    TECH = "tech", _("技术核验")
    FINANCE = "finance", _("财务")
    SUPERVISOR = "supervisor", _("客服主管")
    BUYER = "buyer", _("买家")
    NOBODY = "nobody", _("无")


class SellerOffer(models.TextChoices):
    PARTIAL = "partial", _("部分退款")
    REPLACEMENT = "replacement", _("更换商品（补发）")


class EventKind(models.TextChoices):
    """What can happen to a case; each is one event on the case's stream (its timeline)."""

    SUBMITTED = "submitted", _("提交申请")
    EVIDENCE_ADDED = "evidence_added", _("上传材料")
    STAGE_CHANGED = "stage_changed", _("阶段变更")
    VERIFIED = "verified", _("系统核验")
    WAITING_SUPPLIER = "waiting_supplier", _("等待供应商答复")
    DECISION = "decision", _("处理结果")
    PAYOUT = "payout", _("退款发出")
    GATEWAY_REFUNDED = "gateway_refunded", _("原路退款完成")
    SELLER_ANSWER = "seller_answer", _("卖家答复")
    BUYER_ANSWER_OFFER = "buyer_answer_offer", _("买家答复卖家方案")
    MATERIAL_ADDED = "material_added", _("补充材料")
    CLAIMED = "claimed", _("认领")
    TRANSFERRED = "transferred", _("转交")
    FINANCE_DECISION = "finance_decision", _("财务复核")
    FOLLOW_UP = "follow_up", _("催一催")
    DEADLINE_PASSED = "deadline_passed", _("时限已到")
    ESCALATED = "escalated", _("升级督办")
    APPEAL_WINDOW_CLOSED = "appeal_window_closed", _("申诉期结束")
    COMPLAINED = "complained", _("投诉")
    COMPLAINT_ANSWERED = "complaint_answered", _("投诉答复")
    CHANNEL_COMPLAINT = "channel_complaint", _("支付渠道投诉")


class SellerAnswer(models.TextChoices):
    AGREE = "agree", _("同意退款")
    REFUSE = "refuse", _("拒绝退款")
    PARTIAL = "partial", _("部分退款")
    REPLACEMENT = "replacement", _("更换商品（补发）")


class TimerKind(models.TextChoices):
    """What a timer waits for. All but SUPPLIER_POLL are deadlines a person or the system must
    meet (the case shows them); a supplier poll is the system asking the supplier again."""

    SELLER_ANSWER = "seller_answer", _("卖家答复时限")
    BUYER_OFFER = "buyer_offer", _("买家确认卖家方案时限")
    BUYER_INFO = "buyer_info", _("买家补充材料时限")
    SUPPLIER_ANSWER = "supplier_answer", _("供应商答复时限")
    SUPPLIER_POLL = "supplier_recheck", _("向供应商再次查询")
    REVIEW = "review", _("平台审核时限")
    FINANCE = "finance", _("财务复核时限")
    APPEAL = "appeal", _("申诉处理时限")
    APPEAL_WINDOW = "appeal_window", _("申诉期")
    GATEWAY_REFUND = "gateway_refund", _("原路退款到账时限")
    ESCALATED = "escalated", _("主管督办时限")


class RefundTo(models.TextChoices):
    BALANCE = "balance", _("退回平台余额（即时到账）")
    ORIGINAL = "original", _("原路退回")


class Channel(models.TextChoices):
    """Where a request came in: the buyer's own page or API, or an agent filing for the buyer."""

    WEB = "web", _("网页")
    API = "api", _("接口")
    PHONE = "phone", _("电话")
    EMAIL = "email", _("邮件")
    CHAT = "chat", _("在线客服")
    SYSTEM = "system", _("系统自动")


class Clause(models.Model):
    """One clause of 《虚拟商品退款条款》 in one version. Decisions record number@version."""

    number = models.PositiveSmallIntegerField(_("条款号"))
    version = models.PositiveSmallIntegerField(_("版本"), default=1)
    title = models.CharField(_("标题"), max_length=80)
    body = models.TextField(_("条款内容"))
    # The figures the engine reads (hours, days, threshold in 分...), so an admin changes them here.
    params = models.JSONField(_("参数"), default=dict, blank=True)
    is_current = models.BooleanField(_("现行版本"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["number", "-version"]
        verbose_name = _("退款条款")
        verbose_name_plural = _("退款条款")
        constraints = [
            models.UniqueConstraint(fields=["number", "version"], name="clause_number_version_unique"),
            models.UniqueConstraint(
                fields=["number"], condition=Q(is_current=True), name="clause_one_current"
            ),
        ]

    def __str__(self) -> str:
        return str(_("第%(n)s条 v%(v)s %(t)s") % {"n": self.number, "v": self.version, "t": self.title})

    @property
    def ref(self) -> str:
        return f"{self.number}@v{self.version}"


class EvidenceRule(models.Model):
    """What evidence a reason × goods kind asks for (kind blank = any kind). Edited by admins."""

    reason = models.CharField(_("原因"), max_length=20, choices=Reason.choices)
    kind = models.CharField(_("商品类型"), max_length=20, blank=True)
    # [{"code": "redeem_error_screenshot", "label": "兑换失败的截图"}, ...]; empty = the system checks itself
    items = models.JSONField(_("所需证据"), default=list, blank=True)
    note = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("证据要求")
        verbose_name_plural = _("证据要求")
        constraints = [models.UniqueConstraint(fields=["reason", "kind"], name="evidence_rule_unique")]

    def __str__(self) -> str:
        return f"{self.reason} × {self.kind or '*'}"


OPEN_STAGES = {
    Stage.SUBMITTED,
    Stage.VERIFYING,
    Stage.AWAITING_SELLER,
    Stage.PLATFORM_REVIEW,
    Stage.NEEDS_INFO,
    Stage.APPROVED,
    Stage.PARTIALLY_APPROVED,
    Stage.FINANCE_REVIEW,
    Stage.REFUNDING,
    Stage.APPEALED,
}


class RefundCase(models.Model):
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="refund_cases")
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="refund_cases")
    seller = models.ForeignKey("catalog.Seller", on_delete=models.PROTECT, related_name="refund_cases")
    reason = models.CharField(_("原因"), max_length=20, choices=Reason.choices)
    demand = models.CharField(_("诉求"), max_length=20, choices=Demand.choices)
    amount_requested = models.PositiveBigIntegerField(_("申请金额（分）"))
    amount_approved = models.PositiveBigIntegerField(_("同意金额（分）"), null=True, blank=True)
    refund_to = models.CharField(
        _("退款去向"), max_length=10, choices=RefundTo.choices, default=RefundTo.BALANCE
    )
    description = models.TextField(_("问题描述"), blank=True)
    statement = models.TextField(_("事实与依据"), blank=True)
    facts = models.JSONField(_("核验事实"), default=dict, blank=True)
    channel = models.CharField(_("来源渠道"), max_length=20, choices=Channel.choices, default=Channel.WEB)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("买家本人，或代为提交的客服"),
    )

    stage = models.CharField(_("阶段"), max_length=20, choices=Stage.choices, default=Stage.SUBMITTED)
    holder = models.CharField(_("当前处理方"), max_length=12, choices=Holder.choices, default=Holder.SYSTEM)
    holder_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="held_cases"
    )
    # Kept as sentences (kameng.sentences): shown in the reader's language, not the writer's.
    stage_reason = models.JSONField(_("原因说明"), default=str, blank=True)
    deadline_at = models.DateTimeField(_("处理时限"), null=True, blank=True)
    deadline_action = models.JSONField(_("逾期后"), default=str, blank=True)
    # While the buyer is asked for material the review clock stops; this is what was left on it.
    paused_remaining = models.DurationField(null=True, blank=True)
    is_open = models.BooleanField(default=True)

    # The seller's offer the buyer may accept (partial amount or replacement).
    seller_offer = models.CharField(max_length=20, choices=SellerOffer.choices, blank=True)
    seller_offer_amount = models.PositiveBigIntegerField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    finance_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decision_clause = models.CharField(_("依据条款"), max_length=20, blank=True)
    # How an approved refund is carried out, fixed by the decision (never shown as a fact).
    void_order = models.BooleanField(default=False, help_text=_("全额退款：订单作废，不再发货"))
    revoke_keys = models.BooleanField(default=False, help_text=_("作废已发卡密"))
    payment_ids = models.JSONField(default=list, blank=True, help_text=_("只退回这些付款（重复支付）"))
    # Whom the buyer's material goes back to, and when the one appeal was made.
    info_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    appealed_at = models.DateTimeField(null=True, blank=True)
    # The one appeal of a case: who made it (the buyer, or the seller contesting a decision against
    # it), the stage it was made from, and until when a decision may be appealed at all.
    appealed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    appealed_from = models.CharField(max_length=20, blank=True)
    appeal_until = models.DateTimeField(_("申诉截止"), null=True, blank=True)
    decision_note = models.TextField(_("处理意见"), blank=True)
    last_followup_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(_("申请时间"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("退款申请")
        verbose_name_plural = _("退款申请")
        constraints = [
            models.UniqueConstraint(
                fields=["order"], condition=Q(is_open=True), name="one_open_case_per_order"
            ),
            models.CheckConstraint(condition=Q(amount_requested__gt=0), name="case_amount_positive"),
        ]
        indexes = [
            models.Index(fields=["buyer", "-created_at"]),
            # The seller's cases (lists.cases_of_seller, cases_of_party): waiting ones, the rest.
            models.Index(fields=["seller", "stage", "deadline_at", "-created_at"], name="case_seller_stage"),
            models.Index(fields=["seller", "deadline_at", "-created_at"], name="case_seller_deadline"),
            models.Index(fields=["seller", "-created_at"], name="case_seller_newest"),
            # The staff queue's order (lists.staff_queue): every open case, or one stage.
            models.Index(
                fields=["deadline_at", "-amount_requested", "id"],
                condition=Q(is_open=True),
                name="case_open_queue",
            ),
            models.Index(fields=["stage", "deadline_at", "-amount_requested", "id"], name="case_stage_queue"),
        ]

    def __str__(self) -> str:
        return str(_("退款申请 #%(pk)s") % {"pk": self.pk})

    @property
    def stream(self) -> str:
        return f"case:{self.pk}"

    @property
    def why(self) -> str:
        """Why the case is where it is, in the reader's language."""
        return say(self.stage_reason)

    @property
    def verified(self) -> str:
        """What the system's own records said when the case was filed, in the reader's language."""
        return say((self.facts or {}).get("verified"))

    @property
    def if_no_action(self) -> str:
        """What happens by itself when the deadline passes, in the reader's language."""
        return say(self.deadline_action)


class Attachment(models.Model):
    """Evidence. Stored through Django's storage API; checked by content, not by name."""

    case = models.ForeignKey(RefundCase, on_delete=models.PROTECT, related_name="attachments")
    item = models.CharField(_("证据项"), max_length=40, blank=True)
    file = models.FileField(upload_to="evidence/%Y/%m/")
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=60)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]


class Timer(models.Model):
    """One timer of a case: a deadline, or a supplier poll (see TimerKind). The tick finds due
    ones by index; firing is idempotent."""

    case = models.ForeignKey(RefundCase, on_delete=models.CASCADE, related_name="timers")
    kind = models.CharField(max_length=30, choices=TimerKind.choices)
    stage = models.CharField(max_length=20)
    due_at = models.DateTimeField()
    enqueued_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=60, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["due_at"], condition=Q(done_at__isnull=True), name="deadline_open_due")
        ]


class Payout(models.Model):
    """Money going back for a case: to the balance (at once) or through the gateway (retried)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("处理中")
        SUCCEEDED = "succeeded", _("已退款")
        FAILED = "failed", _("失败，重试中")

    case = models.ForeignKey(RefundCase, on_delete=models.PROTECT, related_name="payouts")
    key = models.CharField(max_length=80, unique=True)
    amount = models.PositiveBigIntegerField()
    method = models.CharField(max_length=10, choices=RefundTo.choices)
    payment = models.ForeignKey(
        "payments.Payment", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    gateway_refund = models.ForeignKey(
        "payments.GatewayRefund", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # A gateway payout is handed to the workers once per attempt, with backoff (see
    # actions/payout.enqueue_attempt): how many times, the task last handed over, and when the tick
    # may hand it over again. Null: never handed over by the tick yet.
    enqueues = models.PositiveIntegerField(default=0)
    task_id = models.CharField(max_length=64, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="payout_amount_positive")]
        indexes = [
            # The tick's query: unfinished gateway payouts by when they may be tried again.
            models.Index(
                fields=["next_attempt_at"],
                name="payout_retry_due",
                condition=Q(status__in=["pending", "failed"], method="original"),
            )
        ]
