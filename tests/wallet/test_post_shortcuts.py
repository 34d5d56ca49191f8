"""The two shortcuts the refund hot path uses (`new_key`, `known_balances`) keep the ledger's rules,
and an account created by two first users at once is one account."""

import pytest
from django.db import IntegrityError, transaction

from kameng.db.prepared import Later
from kameng.wallet.models import Account, Transaction
from kameng.wallet.services import (
    TRANSACTION_KEY,
    InsufficientBalance,
    Line,
    balance_of,
    buyer_code,
    check_ledger,
    escrow_code,
    get_accounts,
    post,
)
from tests import factories as f
from tests.orders.helpers import at_once

pytestmark = pytest.mark.django_db


@pytest.fixture
def buyer():
    return buyer_code(f.buyer().pk)


def _fill_escrow(amount: int) -> None:
    post(
        key="pay:1",
        kind="order_payment",
        lines=[Line("platform:gateway", -amount), Line(escrow_code(1), amount)],
    )


def test_a_known_balance_still_refuses_to_go_below_zero_and_posts_nothing(buyer):
    _fill_escrow(10_00)

    with pytest.raises(InsufficientBalance):
        post(
            key="refund:9:1",
            kind="refund",
            lines=[Line(escrow_code(1), -10_01), Line(buyer, 10_01)],
            new_key=True,
            known_balances={escrow_code(1): 10_00},
        )

    assert not Transaction.objects.filter(key="refund:9:1").exists()
    assert balance_of(escrow_code(1)) == 10_00
    assert check_ledger() == []


def test_a_known_balance_moves_the_money_once(buyer):
    _fill_escrow(10_00)

    txn, created = post(
        key="refund:9:1",
        kind="refund",
        lines=[Line(escrow_code(1), -10_00), Line(buyer, 10_00)],
        new_key=True,
        known_balances={escrow_code(1): 10_00},
    )

    assert created
    assert balance_of(escrow_code(1)) == 0
    assert balance_of(buyer) == 10_00
    # Without the shortcut the same key is found and nothing moves twice.
    again, created = post(
        key="refund:9:1", kind="refund", lines=[Line(escrow_code(1), -10_00), Line(buyer, 10_00)]
    )
    assert (again.pk, created) == (txn.pk, False)
    assert balance_of(buyer) == 10_00
    assert check_ledger() == []


def test_a_new_key_that_was_used_fails_the_callers_transaction_instead_of_posting_twice(buyer):
    _fill_escrow(10_00)
    post(key="refund:9:1", kind="refund", lines=[Line(escrow_code(1), -5_00), Line(buyer, 5_00)])

    with pytest.raises(IntegrityError), transaction.atomic():
        post(
            key="refund:9:1",
            kind="refund",
            lines=[Line(escrow_code(1), -5_00), Line(buyer, 5_00)],
            new_key=True,
        )

    assert balance_of(buyer) == 5_00
    assert check_ledger() == []


def test_missing_accounts_are_created_in_one_go_and_found_the_next_time():
    user = f.buyer()
    first = get_accounts([buyer_code(user.pk), "escrow:41", "platform:gateway"])
    second = get_accounts(["platform:gateway", "escrow:41", buyer_code(user.pk)])

    assert {c: a.pk for c, a in first.items()} == {c: a.pk for c, a in second.items()}
    assert first[buyer_code(user.pk)].user_id == user.pk
    assert Account.objects.filter(code__in=first).count() == 3


@pytest.mark.django_db(transaction=True)
def test_twenty_first_uses_of_one_account_at_once_make_one_account(on_postgres):
    code = buyer_code(f.buyer().pk)
    results = at_once(20, lambda i: get_accounts([code])[code].pk)

    ids = {value for outcome, value in results if outcome == "ok"}
    assert [v for o, v in results if o == "error"] == []
    assert len(ids) == 1
    assert Account.objects.filter(code=code).count() == 1


def _refund_from_known_escrow(buyer, later, *, key: str, amount: int, **more):
    """A refund out of escrow 1, whose 10.00 the caller read under its lock, written via `later`."""
    return post(
        key=key,
        kind="refund",
        lines=[Line(escrow_code(1), -amount), Line(buyer, amount)],
        new_key=True,
        known_balances={escrow_code(1): 10_00},
        later=later,
        **more,
    )


def test_deferred_postings_land_when_the_caller_flushes_and_balance_the_books(buyer):
    _fill_escrow(10_00)
    accounts = get_accounts([escrow_code(1)])
    later = Later()

    with transaction.atomic():
        txn, created = _refund_from_known_escrow(
            buyer, later, key="refund:9:1", amount=4_00, accounts=accounts
        )
        assert created and txn.pk
        assert balance_of(buyer) == 0  # not written yet: only the caller's flush writes them
        later.flush()

    assert balance_of(buyer) == 4_00
    assert balance_of(escrow_code(1)) == 6_00
    assert check_ledger() == []


def test_postings_are_not_deferred_when_a_debited_balance_must_be_read_from_the_ledger(buyer):
    _fill_escrow(10_00)
    later = Later()

    with transaction.atomic():
        post(
            key="refund:9:1",
            kind="refund",
            lines=[Line(escrow_code(1), -4_00), Line(buyer, 4_00)],
            new_key=True,
            later=later,  # the escrow's balance is not known: it is summed, so the write is now
        )
        assert balance_of(buyer) == 4_00
        with pytest.raises(InsufficientBalance):  # and the next spender sees it
            post(
                key="refund:9:2",
                kind="refund",
                lines=[Line(escrow_code(1), -6_01), Line(buyer, 6_01)],
                new_key=True,
                later=later,
            )
        later.flush()

    assert balance_of(escrow_code(1)) == 6_00
    assert check_ledger() == []


def test_an_account_known_to_be_missing_is_created_without_looking_again(buyer, django_assert_num_queries):
    _fill_escrow(10_00)
    known = {escrow_code(1): get_accounts([escrow_code(1)])[escrow_code(1)], buyer: None}

    with django_assert_num_queries(1):  # the insert of the buyer's account, and nothing else
        accounts = get_accounts([escrow_code(1), buyer], known=known)

    assert accounts[buyer].pk == Account.objects.get(code=buyer).pk
    assert accounts[escrow_code(1)] is known[escrow_code(1)]


def test_a_transaction_with_a_key_taken_ahead_is_written_whole_at_the_flush(buyer):
    _fill_escrow(10_00)
    accounts = get_accounts([escrow_code(1), buyer])
    later = Later()

    with transaction.atomic():
        reserved = TRANSACTION_KEY.fetch()  # [key] on PostgreSQL, [] where there is no sequence
        txn, created = _refund_from_known_escrow(
            buyer,
            later,
            key="refund:10:1",
            amount=3_00,
            accounts=accounts,
            txn_id=reserved[0] if reserved else None,
        )
        assert created
        if reserved:  # PostgreSQL: the row itself waits for the flush too
            assert txn.pk == reserved[0] and not Transaction.objects.filter(key="refund:10:1").exists()
        later.flush()

    assert Transaction.objects.get(key="refund:10:1").pk == txn.pk
    assert balance_of(buyer) == 3_00 and check_ledger() == []
