from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from kameng.sentences import say


class Role(models.TextChoices):
    BUYER = "buyer", _("买家")
    SELLER = "seller", _("卖家")
    AGENT = "agent", _("客服")
    SUPERVISOR = "supervisor", _("客服主管")
    FINANCE = "finance", _("财务")
    ADMIN = "admin", _("管理员")


STAFF_ROLES = {Role.AGENT, Role.SUPERVISOR, Role.FINANCE, Role.ADMIN}


class User(AbstractUser):
    """A person. Roles are Django groups named after `Role` values, so admins manage them in the admin."""

    display_name = models.CharField(_("昵称"), max_length=60, blank=True)
    phone = models.CharField(_("手机号"), max_length=20, blank=True)
    # 工号: the public agent number a buyer sees and can verify. Only staff have one.
    agent_no = models.CharField(_("工号"), max_length=16, unique=True, null=True, blank=True)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def roles(self) -> frozenset[str]:
        cached = getattr(self, "_roles_cache", None)
        if cached is None:
            if not self.is_authenticated or not self.pk:
                cached = frozenset()
            else:
                cached = frozenset(self.groups.values_list("name", flat=True))
                if self.is_superuser:
                    cached = cached | {Role.ADMIN.value}
            self._roles_cache = cached
        return cached

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles & {str(r) for r in roles})

    @property
    def public_name(self) -> str:
        """What a buyer sees for a staff member: their role and 工号, never a private name."""
        if not self.agent_no:
            return str(self)
        if self.has_role(Role.SUPERVISOR):
            return _("客服主管 %(no)s") % {"no": self.agent_no}
        if self.has_role(Role.FINANCE) and not self.has_role(Role.AGENT):
            return _("财务 %(no)s") % {"no": self.agent_no}
        return _("客服 %(no)s") % {"no": self.agent_no}


class Notice(models.Model):
    """Something the system tells a user (money credited, case moved). Shown on their pages."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notices")
    # A sentence (kameng.sentences), shown in the reader's language.
    text = models.JSONField(default=str)
    link = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "-created_at"])]

    @property
    def message(self) -> str:
        return say(self.text)
