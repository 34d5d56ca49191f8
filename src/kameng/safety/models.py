"""Safety (SPEC §9): the official channels a buyer can check, the scam rules that stand between the
buyer and everyone else, and what they caught."""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from .canonical import normalized
from .rules import compile_rule


class OfficialChannel(models.Model):
    """A phone number, email address, domain or social account that really is the platform's. Agents'
    工号 are official through their staff accounts, not rows here."""

    class Kind(models.TextChoices):
        PHONE = "phone", _("电话")
        EMAIL = "email", _("邮箱")
        DOMAIN = "domain", _("网站域名")
        SOCIAL = "social", _("社交账号")

    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    value = models.CharField(_("号码/地址/账号"), max_length=200)
    # The value as the check compares it (digits only, lower case, punycode): see safety.registry.
    normalized = models.CharField(max_length=200, editable=False)
    name = models.CharField(_("名称"), max_length=100, help_text=_("例如：官方客服热线"))
    is_active = models.BooleanField(_("有效"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "id"]
        verbose_name = _("官方渠道")
        verbose_name_plural = _("官方渠道")
        constraints = [
            models.UniqueConstraint(fields=["kind", "normalized"], name="official_channel_once"),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.value}"

    def save(self, *args, **kwargs):
        self.normalized = normalized(self.kind, self.value)
        super().save(*args, **kwargs)


class ScamRule(models.Model):
    """One check of the scam filter (SPEC §9: "Checks are data an administrator tunes"). Phrases,
    regular expressions and pinyin patterns add their weight to a message's score; variant rows say
    which spellings mean the same word (威信 → 微信); negation, question and context rows hold the
    words that cancel a match in their clause ("不会", "请勿") or damp a whole message (a buyer's
    question, a warning about scams).
    See kameng.safety.scam for how a score becomes a verdict."""

    class Category(models.TextChoices):
        DEPOSIT = "deposit", _("保证金")
        UNFREEZE = "unfreeze", _("解冻费")
        CODE = "code", _("验证码/密码/卡号")
        SCREEN = "screen", _("屏幕共享")
        LOAN = "loan", _("贷款/额度")
        CANCEL = "cancel", _("注销账户")
        CONTACT = "contact", _("私下联系")
        LINK = "link", _("外部链接/二维码")
        OTHER = "other", _("其他")

    class Kind(models.TextChoices):
        PHRASE = "phrase", _("短语")
        REGEX = "regex", _("正则表达式")
        PINYIN = "pinyin", _("拼音")
        VARIANT = "variant", _("同义变体")
        NEGATION = "negation", _("否定词")
        QUESTION = "question", _("提问语境")
        CONTEXT = "context", _("提醒语境")

    name = models.CharField(_("名称"), max_length=100)
    category = models.CharField(_("类别"), max_length=10, choices=Category.choices, default=Category.OTHER)
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices, default=Kind.PHRASE)
    pattern = models.TextField(
        _("规则"),
        max_length=2000,
        help_text=_(
            "短语：用“|”分隔多个写法，按规范化后的文字匹配；正则：Python 正则，同时匹配原文和规范化文字，"
            "名为 luhn 的分组须通过银行卡校验；拼音：正则，匹配无声调拼音；"
            "同义变体：“规范写法: 变体1, 变体2”；否定词、提问语境、提醒语境：用逗号分隔的词。"
        ),
    )
    weight = models.FloatField(_("分值"), default=3)
    is_active = models.BooleanField(_("启用"), default=True)
    note = models.CharField(_("备注"), max_length=300, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind", "category", "id"]
        verbose_name = _("防骗规则")
        verbose_name_plural = _("防骗规则")

    def __str__(self) -> str:
        return self.name

    def clean(self):
        try:
            compile_rule(self)
        except ValueError as error:
            raise ValidationError({"pattern": str(error)}) from error


class ScamHit(models.Model):
    """A message the filter held or warned about, with the rules and the score that decided it. The
    text itself is not kept (it may hold a code or a card number a buyer was about to send): its
    SHA-256 and a short excerpt with digit runs masked are. `source`/`source_id` name what was
    checked ("support.message" 42) without a foreign key, since safety sits below those apps."""

    class Verdict(models.TextChoices):
        HOLD = "hold", _("拦截待审")
        WARN = "warn", _("提醒")

    digest = models.CharField(_("内容摘要"), max_length=64, db_index=True)
    excerpt = models.CharField(_("片段"), max_length=200, blank=True)
    sender = models.CharField(_("发送方"), max_length=10)
    verdict = models.CharField(_("结果"), max_length=4, choices=Verdict.choices)
    score = models.FloatField(_("分数"))
    categories = models.JSONField(_("类别"), default=list)
    rule_ids = models.JSONField(_("命中规则"), default=list)
    source = models.CharField(_("来源"), max_length=40, blank=True)
    source_id = models.CharField(_("来源编号"), max_length=40, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("防骗命中记录")
        verbose_name_plural = _("防骗命中记录")
        indexes = [models.Index(fields=["source", "source_id"], name="scamhit_source")]

    def __str__(self) -> str:
        return f"{self.verdict} {self.score:.1f} {self.excerpt[:30]}"
