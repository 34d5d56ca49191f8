"""The only place money moves. Every movement is one balanced, idempotent ledger transaction."""

from collections import defaultdict
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from .models import MAY_GO_NEGATIVE, Account, AccountKind, Posting, Transaction

GATEWAY = "platform:gateway"
REVENUE = "platform:revenue"


class LedgerError(Exception):
    """A movement that would break the ledger (unbalanced, or a balance below zero)."""


class InsufficientBalance(LedgerError):
    pass


def buyer_code(user_id: int) -> str:
    return f"buyer:{user_id}"


def escrow_code(order_id: int) -> str:
    """Money held for one order. One account per order makes "never refund more than was paid"
    the ledger's own non-negative rule, and keeps each check to one order's postings. Every
    posting to it references the order number."""
    return f"escrow:{order_id}"


def seller_code(seller_id: int) -> str:
    return f"seller:{seller_id}"


def payee_code(*, seller_id: int, is_platform: bool) -> str:
    """Where an order's money goes once the refund window has passed."""
    return REVENUE if is_platform else seller_code(seller_id)


def _kind_of(code: str) -> str:
    prefix = code.split(":", 1)[0]
    if prefix == "platform":
        return {GATEWAY: AccountKind.GATEWAY, REVENUE: AccountKind.REVENUE}[code]
    return {"buyer": AccountKind.BUYER, "seller": AccountKind.SELLER, "escrow": AccountKind.ESCROW}[prefix]


def get_account(code: str) -> Account:
    return get_accounts([code])[code]


def get_accounts(codes) -> dict[str, Account]:
    """The accounts for `codes`, created on first use; one query when they all exist."""
    codes = sorted(set(codes))
    found = {a.code: a for a in Account.objects.filter(code__in=codes)}
    for code in codes:
        if code in found:
            continue
        user_id = int(code.split(":", 1)[1]) if code.startswith("buyer:") else None
        try:
            with transaction.atomic():
                found[code] = Account.objects.create(code=code, kind=_kind_of(code), user_id=user_id)
        except IntegrityError:  # created by a concurrent first use
            found[code] = Account.objects.get(code=code)
    return found


def balance_of(code: str) -> int:
    return Posting.objects.filter(account__code=code).aggregate(s=Sum("amount"))["s"] or 0


def buyer_balance(user) -> int:
    return balance_of(buyer_code(user.pk))


@dataclass(frozen=True)
class Line:
    code: str
    amount: int


def post(
    *, key: str, kind: str, lines: list[Line], reference: str = "", memo: str = ""
) -> tuple[Transaction, bool]:
    """Post one balanced transaction, exactly once per `key`.

    Returns (transaction, created). A second call with the same key returns the first transaction
    and posts nothing. Accounts that may not go negative are locked (in id order, so two posters
    never deadlock) and checked before the postings are added; a shortfall raises
    InsufficientBalance and writes nothing.
    """
    if not key:
        raise LedgerError("empty idempotency key")
    if sum(line.amount for line in lines) != 0:
        raise LedgerError(f"unbalanced transaction {key}")
    if any(not isinstance(line.amount, int) or isinstance(line.amount, bool) for line in lines):
        raise LedgerError("amounts are integer 分")
    merged: dict[str, int] = defaultdict(int)
    for line in lines:
        merged[line.code] += line.amount
    merged = {code: amount for code, amount in merged.items() if amount}
    # No savepoint of its own: the checks write nothing, and a refusal is raised only after leaving
    # the block, so it leaves a caller's transaction usable.
    short = False
    with transaction.atomic(savepoint=False):
        existing = Transaction.objects.filter(key=key).first()
        if existing is not None:
            return existing, False
        accounts = get_accounts(merged)
        debited = [accounts[c] for c in merged if merged[c] < 0 and not accounts[c].may_go_negative]
        if debited:
            # Row locks serialise every spender of the same account (SQLite serialises all writers anyway).
            locked = list(
                Account.objects.select_for_update().filter(pk__in=[a.pk for a in debited]).order_by("pk")
            )
            balances = dict(
                Posting.objects.filter(account__in=locked)
                .values("account_id")
                .annotate(total=Sum("amount"))
                .values_list("account_id", "total")
            )
            short = any(balances.get(a.pk, 0) + merged[a.code] < 0 for a in debited)
        if not short:
            try:
                # A concurrent poster of the same key loses here (unique key) and gets the winner's.
                with transaction.atomic():
                    txn = Transaction.objects.create(key=key, kind=kind, reference=reference, memo=memo[:200])
                    Posting.objects.bulk_create(
                        [
                            Posting(transaction=txn, account=accounts[code], amount=amount)
                            for code, amount in merged.items()
                        ]
                    )
            except IntegrityError:
                return Transaction.objects.get(key=key), False
            return txn, True
    raise InsufficientBalance(_("余额不足"))


def check_ledger() -> list[str]:
    """Every invariant of the ledger; returns the problems found (empty when sound)."""
    problems = []
    unbalanced = (
        Transaction.objects.annotate(total=Sum("postings__amount"))
        .exclude(total=0)
        .values_list("key", "total")
    )
    for key, total in unbalanced:
        problems.append(f"transaction {key} does not balance ({total})")
    for txn_key in Transaction.objects.filter(postings__isnull=True).values_list("key", flat=True):
        problems.append(f"transaction {txn_key} has no postings")
    negative = (
        Account.objects.exclude(kind__in=MAY_GO_NEGATIVE)
        .annotate(bal=Sum("postings__amount"))
        .filter(bal__lt=0)
        .values_list("code", "bal")
    )
    for code, bal in negative:
        problems.append(f"account {code} is negative ({bal})")
    total = Posting.objects.aggregate(s=Sum("amount"))["s"] or 0
    if total != 0:
        problems.append(f"ledger does not sum to zero ({total})")
    return problems
