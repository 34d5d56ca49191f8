"""Refund races on real PostgreSQL row locks: money goes back once, and never alongside a delivery."""

import pytest

from kameng.orders.models import CardKey, OrderStatus
from kameng.orders.services import retry_delivery
from kameng.refunds.models import RefundCase, Stage
from kameng.refunds.services import RefundError, decide, submit_refund
from kameng.wallet.models import Transaction
from kameng.wallet.services import buyer_balance, check_ledger
from tests import factories as f

from .helpers import (
    agent,
    assert_invariants,
    at_once,
    delivered_custom_order,
    evidence_for,
    fast_passwords,  # noqa: F401 - autouse
    keys,
    undelivered_key_order,
)

pytestmark = pytest.mark.django_db(transaction=True)


def _errors(results):
    return [value for outcome, value in results if outcome == "error"]


def test_fifty_identical_refund_requests_refund_once(on_postgres):
    buyer = f.buyer()
    order = undelivered_key_order(buyer, f.product(price=20_00, keys=1))

    results = at_once(
        50, lambda i: submit_refund(order=order, actor=buyer, reason="not_received", demand="full_refund").pk
    )

    assert sum(1 for outcome, _ in results if outcome == "ok") == 1
    errors = _errors(results)
    assert len(errors) == 49
    assert all(isinstance(e, RefundError) for e in errors), errors
    assert RefundCase.objects.filter(order=order).count() == 1
    assert RefundCase.objects.get(order=order).stage == Stage.REFUNDED
    assert Transaction.objects.filter(kind="refund").count() == 1
    assert buyer_balance(buyer) == 20_00
    assert_invariants()


def test_fifty_agents_approving_one_case_refund_once(on_postgres):
    buyer = f.buyer(balance=200_00)
    order = delivered_custom_order(buyer, price=200_00, seller=f.seller(platform=True))
    case = submit_refund(
        order=order,
        actor=buyer,
        reason="not_as_described",
        demand="full_refund",
        evidence=evidence_for("not_as_described", "custom_service"),
    )
    assert case.stage == Stage.PLATFORM_REVIEW
    agents = [agent() for _ in range(50)]

    results = at_once(
        50, lambda i: decide(case_id=case.pk, agent=agents[i], decision="approve", note="同意").stage
    )

    assert [value for outcome, value in results if outcome == "ok"] == [Stage.REFUNDED]
    errors = _errors(results)
    assert len(errors) == 49
    assert all(isinstance(e, RefundError) for e in errors), errors
    assert Transaction.objects.filter(kind="refund").count() == 1
    assert buyer_balance(buyer) == 200_00
    assert check_ledger() == []


def test_a_refund_racing_a_late_delivery_never_pays_back_a_delivered_key(on_postgres):
    outcomes = set()
    for round_no in range(10):
        buyer = f.buyer()
        product = f.product(price=15_00, keys=1)
        order = undelivered_key_order(buyer, product)
        keys(product, f"RESTOCK-{round_no}")

        def work(i, order=order, buyer=buyer):
            if i == 0:
                return retry_delivery(order_id=order.pk).status
            return submit_refund(order=order, actor=buyer, reason="not_received", demand="full_refund").stage

        results = at_once(2, work)

        assert [outcome for outcome, _ in results] == ["ok", "ok"], results
        order.refresh_from_db()
        case = RefundCase.objects.get(order=order)
        assert case.stage == Stage.REFUNDED
        assert order.status == OrderStatus.REFUNDED
        assert buyer_balance(buyer) == 15_00
        assert not CardKey.objects.filter(order=order, status="assigned").exists()
        if case.decision_clause.startswith("3@"):  # the refund won: the key was never handed out
            assert not CardKey.objects.filter(order=order).exists()
            outcomes.add("refund first")
        else:  # the delivery won: the unrevealed key was revoked, never left with the buyer
            assert case.decision_clause.startswith("4@")
            assert CardKey.objects.get(order=order).status == "revoked"
            outcomes.add("delivery first")
    assert outcomes  # which side wins varies from run to run; both are safe
    assert check_ledger() == []
