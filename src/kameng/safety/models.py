"""Safety (SPEC §9): the official channels a buyer can check, the scam rules that stand between the
buyer and everyone else, and what they caught."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from .canonical import normalized


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
