from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AccountKind(models.TextChoices):
    BUYER = "buyer", _("买家余额")
    ESCROW = "escrow", _("订单托管")
    GATEWAY = "gateway", _("支付通道清算")
    SELLER = "seller", _("卖家应付")
    REVENUE = "revenue", _("平台收入")


MAY_GO_NEGATIVE = {AccountKind.GATEWAY, AccountKind.SELLER, AccountKind.REVENUE}


class Account(models.Model):
    """A ledger account. Its balance is the sum of its postings; nothing else stores it.

    Sign convention: a positive posting adds to what the account holds. The gateway clearing account
    goes negative as money arrives from outside (it is the world's side of the ledger), so every
    transaction sums to zero and the whole ledger always sums to zero.
    """

    code = models.CharField(max_length=60, unique=True)
    kind = models.CharField(max_length=10, choices=AccountKind.choices)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="wallet_account",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("账户")
        verbose_name_plural = _("账户")

    def __str__(self) -> str:
        return self.code

    @property
    def may_go_negative(self) -> bool:
        # The world's side (gateway), and what the platform passed on to a seller or kept as revenue:
        # a refund after settlement claws it back, so those may dip below zero (owed to the platform).
        return self.kind in MAY_GO_NEGATIVE


class Transaction(models.Model):
    """One balanced movement of money. `key` names the business fact, so a retry posts nothing new."""

    key = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=30)
    reference = models.CharField(max_length=60, blank=True, db_index=True, help_text=_("订单号等业务编号"))
    memo = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("记账凭证")
        verbose_name_plural = _("记账凭证")

    def __str__(self) -> str:
        return self.key


class Posting(models.Model):
    transaction = models.ForeignKey(Transaction, on_delete=models.PROTECT, related_name="postings")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="postings")
    amount = models.BigIntegerField(help_text=_("分；正数为入账"))

    class Meta:
        constraints = [models.CheckConstraint(condition=~models.Q(amount=0), name="posting_nonzero")]
        indexes = [models.Index(fields=["account", "transaction"])]
