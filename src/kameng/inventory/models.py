import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class CardKeyStatus(models.TextChoices):
    AVAILABLE = "available", _("可售")
    ASSIGNED = "assigned", _("已发放")
    REVOKED = "revoked", _("已撤回")
    QUARANTINED = "quarantined", _("待核验")


class CardKey(models.Model):
    """One card key. The secret is Fernet-encrypted; `fingerprint` (keyed HMAC) finds duplicates."""

    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="card_keys")
    secret_enc = models.TextField()
    # Point cards often come as a card number (卡号) plus a password (卡密): both are secrets.
    # Empty for a key that is a password alone.
    card_no_enc = models.TextField(blank=True, default="")
    fingerprint = models.CharField(max_length=64)
    batch = models.CharField(_("批次"), max_length=40, blank=True)
    status = models.CharField(max_length=12, choices=CardKeyStatus.choices, default=CardKeyStatus.AVAILABLE)
    order = models.ForeignKey(
        "orders.Order", null=True, blank=True, on_delete=models.PROTECT, related_name="card_keys"
    )
    assigned_at = models.DateTimeField(null=True, blank=True)
    # The buyer's first explicit reveal: the fact that decides a "never opened" refund.
    viewed_at = models.DateTimeField(_("首次查看"), null=True, blank=True)
    # What the supplier says: None = unknown, True = redeemed, False = not redeemed.
    redeemed = models.BooleanField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        # The table keeps the name it had when card keys lived in orders (moved without copying).
        db_table = "orders_cardkey"
        verbose_name = _("卡密")
        verbose_name_plural = _("卡密")
        constraints = [
            models.UniqueConstraint(fields=["product", "fingerprint"], name="cardkey_unique_per_product"),
            models.CheckConstraint(
                condition=Q(status="assigned", order__isnull=False) | ~Q(status="assigned"),
                name="cardkey_assigned_has_order",
            ),
        ]
        indexes = [models.Index(fields=["product", "status", "id"])]

    def __str__(self) -> str:
        return f"CardKey#{self.pk}"  # never the secret


class KeyImportDraft(models.Model):
    """A checked but not yet confirmed import: the seller saw its masked preview and may confirm it.
    The file's text is kept Fernet-encrypted, for a short time, and deleted once confirmed; the
    random id is what the confirm form carries, never a key."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    product = models.ForeignKey("catalog.Product", on_delete=models.CASCADE, related_name="+")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    text_enc = models.TextField()
    has_header = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("待确认的卡密导入")
        verbose_name_plural = _("待确认的卡密导入")

    def __str__(self) -> str:
        return f"KeyImportDraft#{self.pk}"
