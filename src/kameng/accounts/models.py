from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
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
    # Notices by email: None is the default (on for a buyer with an address, off otherwise).
    email_notices = models.BooleanField(_("通过邮件接收通知"), null=True, blank=True)
    # The language of what is sent to them when they are not reading a page (email).
    language = models.CharField(
        _("通知语言"), max_length=10, choices=[("zh-hans", "简体中文"), ("en", "English")], default="zh-hans"
    )

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
    """Something the system tells a user (money credited, case moved). Shown on their pages and in
    their notice centre; mailed to them too if they asked for it.

    The row is its own mail outbox: `mail_due_at` is set in the transaction that writes the notice
    (to the end of the digest window) when its user gets notices by email; the tick hands due mail
    to a task, which sends one mail per user and sets `mailed_at`. A notice is mailed at least once
    and, once `mailed_at` is set, never again."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notices")
    # A sentence (kameng.sentences), shown in the reader's language.
    text = models.JSONField(default=str)
    link = models.CharField(max_length=200, blank=True)
    # What makes a reminder happen once: the same key for the same user is written once.
    key = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    mail_due_at = models.DateTimeField(null=True, blank=True)
    mailed_at = models.DateTimeField(null=True, blank=True)
    mail_attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at"]),
            # The badge: a user's unread notices.
            models.Index(fields=["user"], condition=Q(read_at__isnull=True), name="notice_unread"),
            # The mail outbox: what is due and not sent yet.
            models.Index(fields=["mail_due_at"], condition=Q(mailed_at__isnull=True), name="notice_mail_due"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], condition=~Q(key=""), name="notice_once_per_key")
        ]

    @property
    def message(self) -> str:
        return say(self.text)
