"""`manage.py check_ledger`: the operator's one-line answer to "is the money sound?"."""

import pytest
from django.core.management import CommandError, call_command

from kameng.orders.services import place_order
from kameng.wallet.models import Posting, Transaction
from kameng.wallet.services import GATEWAY, buyer_code, get_account
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_a_clean_ledger_is_reported_ok(capsys):
    place_order(buyer=f.buyer(balance=50_00), product=f.product(price=20_00, keys=1))

    call_command("check_ledger")

    out = capsys.readouterr().out
    assert out.startswith("ledger OK")
    assert "2 transactions" in out  # the top-up and the purchase


def test_a_hand_inserted_unbalanced_posting_fails_the_check_and_says_why(capsys):
    buyer = f.buyer(balance=10_00)
    # Someone "fixes" a balance directly in the database: money from nowhere.
    txn = Transaction.objects.create(key="manual-fix-1", kind="manual")
    Posting.objects.create(transaction=txn, account=get_account(buyer_code(buyer.pk)), amount=5_00)

    with pytest.raises(CommandError) as failure:
        call_command("check_ledger")

    message = str(failure.value)
    assert "\n" not in message
    assert "manual-fix-1" in message and "does not balance" in message
    assert "2 problem(s)" in message  # the other (the ledger no longer sums to zero) is counted
    with pytest.raises(CommandError):
        call_command("check_ledger", verbosity=2)  # -v 2 lists every problem
    assert "ledger does not sum to zero" in capsys.readouterr().err


def test_a_negative_buyer_balance_fails_the_check(capsys):
    buyer = f.buyer()
    txn = Transaction.objects.create(key="manual-overdraft", kind="manual")
    Posting.objects.create(transaction=txn, account=get_account(buyer_code(buyer.pk)), amount=-1_00)
    Posting.objects.create(transaction=txn, account=get_account(GATEWAY), amount=1_00)

    with pytest.raises(CommandError, match=rf"account buyer:{buyer.pk} is negative \(-100\)"):
        call_command("check_ledger")
