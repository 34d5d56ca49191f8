"""The only place money moves. Every movement is one balanced, idempotent ledger transaction."""

import functools
from collections import defaultdict
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from kameng.db import prepared
from kameng.db.prepared import PreparedQuery

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
    posting to it references the order number, and it is only ever debited under the order's row
    lock (refunds, settlement), which is what lets those callers pass its balance as known."""
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


@functools.cache
def _accounts_query(count: int) -> PreparedQuery:
    """Accounts by code, one compiled query per number of codes (a posting names two to four)."""
    names = [f"c{i}" for i in range(count)]
    return PreparedQuery(
        lambda **codes: Account.objects.filter(code__in=[codes[n] for n in names]),
        **dict.fromkeys(names, str),
    )


# The read that reserves a ledger transaction's key (`post(txn_id=...)`), for a caller that sends it
# with reads of its own (`prepared.fetch_together`).
TRANSACTION_KEY = prepared.NextKey(Transaction)


def accounts_read(codes) -> tuple[PreparedQuery, dict]:
    """The read of the accounts for `codes`, for a caller that sends it along with reads of its own
    (`prepared.fetch_together`) and hands what it found to `post(accounts=...)`."""
    codes = sorted(set(codes))
    return _accounts_query(len(codes)), {f"c{i}": c for i, c in enumerate(codes)}


def get_accounts(codes, known: dict[str, Account | None] | None = None) -> dict[str, Account]:
    """The accounts for `codes`, created on first use: one query when they all exist, one more
    for each that does not. `known` holds what the caller already read (`accounts_read`): an
    account row never changes once made, and a code it holds as None was looked up and not found,
    so neither is read again."""
    codes = sorted(set(codes))
    known = known or {}
    found = {code: known[code] for code in codes if known.get(code) is not None}
    unread = [code for code in codes if code not in known]
    if unread:
        query, params = accounts_read(unread)
        found.update((a.code, a) for a in query.fetch(**params))
    missing = [
        Account(
            code=code,
            kind=_kind_of(code),
            user_id=int(code.split(":", 1)[1]) if code.startswith("buyer:") else None,
        )
        for code in codes
        if code not in found
    ]
    for account in missing:
        # Insert, skipping one a concurrent first use created meanwhile (on whichever unique column:
        # code, or a buyer's user); only then read it back. No savepoint, no retry.
        if not prepared.insert_unless_exists(account):
            account = _accounts_query(1).fetch(c0=account.code)[0]
        found[account.code] = account
    return found


def balance_of(code: str) -> int:
    return Posting.objects.filter(account__code=code).aggregate(s=Sum("amount"))["s"] or 0


def _balance_of_account(account_id: int) -> int:
    return Posting.objects.filter(account_id=account_id).aggregate(s=Sum("amount"))["s"] or 0


def buyer_balance(user) -> int:
    return balance_of(buyer_code(user.pk))


@dataclass(frozen=True)
class Line:
    code: str
    amount: int


def post(
    *,
    key: str,
    kind: str,
    lines: list[Line],
    reference: str = "",
    memo: str = "",
    new_key: bool = False,
    known_balances: dict[str, int] | None = None,
    accounts: dict[str, Account] | None = None,
    later: prepared.Later | None = None,
    txn_id: int | None = None,
) -> tuple[Transaction, bool]:
    """Post one balanced transaction, exactly once per `key`.

    Returns (transaction, created). A second call with the same key returns the first transaction
    and posts nothing. Accounts that may not go negative are locked (in code order, so two posters
    never deadlock) and checked after the postings are added.

    Two shortcuts for a caller that already knows (each saves statements on the refund hot path):
    `new_key` says the key is derived from a row the caller created in this same transaction, so
    no earlier transaction can hold it (no look-up, no savepoint: a clash is a bug and fails the
    caller's transaction). `known_balances` gives balances the caller read under the lock that
    serialises every spender of those accounts (an order's escrow under the order lock); those
    accounts are neither locked nor summed again. `accounts` are account rows the caller already
    read. With `later` (and a new key), when every debited balance was known, the postings are
    written when the caller flushes it: nothing before then reads them to check a balance; and
    with `txn_id` (a key the caller took from the sequence, `TRANSACTION_KEY`), so is the
    transaction row itself.
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
    known = known_balances or {}
    # No savepoint of its own (two statements saved per posting): the checks write nothing, and a
    # refusal is raised only after leaving the block, so it leaves the caller's transaction usable.
    short = False
    with transaction.atomic(savepoint=False):
        if not new_key:
            existing = Transaction.objects.filter(key=key).first()
            if existing is not None:
                return existing, False
        accounts = get_accounts(merged, known=accounts)
        debited = [accounts[c] for c in sorted(merged) if merged[c] < 0 and not accounts[c].may_go_negative]
        short = any(known[a.code] + merged[a.code] < 0 for a in debited if a.code in known)
        unknown = sorted((a for a in debited if a.code not in known), key=lambda a: a.pk)
        if unknown and not short:
            # Row locks serialise every spender of the same account (SQLite serialises all writers anyway).
            list(Account.objects.select_for_update().filter(pk__in=[a.pk for a in unknown]).order_by("pk"))
            short = any(_balance_of_account(a.pk) + merged[a.code] < 0 for a in unknown)
        if not short:
            if new_key:
                deferred = later if later is not None and all(a.code in known for a in debited) else None
                return _write(
                    key, kind, reference, memo, accounts, merged, later=deferred, txn_id=txn_id
                ), True
            try:
                # A concurrent poster of the same key loses here (unique key) and gets the winner's.
                with transaction.atomic():
                    txn = _write(key, kind, reference, memo, accounts, merged)
            except IntegrityError:
                return Transaction.objects.get(key=key), False
            return txn, True
    raise InsufficientBalance(_("余额不足"))


def _write(
    key,
    kind,
    reference,
    memo,
    accounts,
    merged,
    later: prepared.Later | None = None,
    txn_id: int | None = None,
) -> Transaction:
    txn = Transaction(key=key, kind=kind, reference=reference, memo=memo[:200])
    if later is not None and txn_id is not None:
        txn.pk = txn_id
        later.insert([txn])
    else:
        prepared.insert([txn])
    postings = [
        Posting(transaction=txn, account=accounts[code], amount=amount) for code, amount in merged.items()
    ]
    if later is not None:
        later.insert(postings)
    else:
        prepared.insert(postings, keys=False)
    return txn


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
