"""Complaints about handling (投诉, SPEC §10): filed by a buyer from a case, or raised by the system
when the platform missed its own deadline or broke a promise. A supervisor answers each one within
clause 9's deadline; the answer is an event on the case's timeline."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Complaint(models.Model):
    class Source(models.TextChoices):
        BUYER = "buyer", _("买家投诉")
        DEADLINE = "deadline", _("平台逾期")
        COMMITMENT = "commitment", _("承诺未兑现")

    class State(models.TextChoices):
        OPEN = "open", _("待答复")
        ANSWERED = "answered", _("已答复")

    case = models.ForeignKey(
        "refunds.RefundCase", null=True, blank=True, on_delete=models.PROTECT, related_name="complaints"
    )
    conversation = models.ForeignKey(
        "support.Conversation", null=True, blank=True, on_delete=models.PROTECT, related_name="complaints"
    )
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="complaints")
    source = models.CharField(_("来源"), max_length=12, choices=Source.choices)
    # What raised it by itself ("case:12#7", "commitment:3"): raised once, however often the tick runs.
    origin = models.CharField(max_length=60, blank=True)
    text = models.TextField(_("投诉内容"))
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.OPEN)
    due_at = models.DateTimeField(_("答复时限"))
    clause = models.CharField(max_length=20, blank=True)
    answer = models.TextField(_("主管答复"), blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_at", "id"]
        verbose_name = _("投诉")
        verbose_name_plural = _("投诉")
        constraints = [
            models.UniqueConstraint(
                fields=["origin"], condition=~Q(origin=""), name="complaint_once_per_origin"
            ),
        ]
        indexes = [models.Index(fields=["state", "due_at"])]

    def __str__(self) -> str:
        return str(_("投诉 #%(pk)s") % {"pk": self.pk})
