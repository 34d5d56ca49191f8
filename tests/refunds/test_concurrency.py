"""Refund races on real PostgreSQL row locks: money goes back once, and never alongside a delivery."""

import threading
import time

import pytest
from django.db import connection, transaction

from kameng.catalog.services import import_card_keys
from kameng.inventory.models import CardKey
from kameng.orders.models import Delivery, OrderStatus
from kameng.orders.services import deliver_locked, lock_order, retry_delivery
from kameng.refunds.models import RefundCase, Stage
from kameng.refunds.services import RefundError, submit_refund
from kameng.wallet.models import Transaction
from kameng.wallet.services import buyer_balance, check_ledger
from tests import factories as f

from .helpers import (
    agent,
    assert_invariants,
    at_once,
    decide,
    delivered_custom_order,
    evidence_for,
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

    results = at_once(50, lambda i: decide("approve", case_id=case.pk, agent=agents[i], note="同意").stage)

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


# --- a request that waited for the order lock reads what the last holder left -----------------------------


def _hold_the_order_lock_then(order_id: int, work) -> threading.Event:
    """Another request: takes the order lock, keeps it a moment (the refund queues behind it),
    then does `work(order)` and commits."""
    locked = threading.Event()

    def run():
        try:
            with transaction.atomic():
                locked_order = lock_order(order_id)
                locked.set()
                time.sleep(0.8)
                work(locked_order)
        finally:
            connection.close()

    threading.Thread(target=run, daemon=True).start()
    assert locked.wait(10)
    return locked


def _submit_in_thread(**kwargs) -> dict:
    out: dict = {}

    def run():
        try:
            out["case"] = submit_refund(**kwargs)
        except Exception as e:  # the test asserts on what came back
            out["error"] = e
        finally:
            connection.close()

    t = threading.Thread(target=run)
    t.start()
    t.join(30)
    return out


def test_a_refund_queued_behind_a_delivery_records_the_delivery_as_it_was_left(on_postgres):
    buyer = f.buyer()
    product = f.product(price=20_00, keys=1)
    order = undelivered_key_order(buyer, product)
    import_card_keys(product=product, data="NEW-0001", actor=None)

    _hold_the_order_lock_then(order.pk, deliver_locked)
    out = _submit_in_thread(order=order, actor=buyer, reason="not_received", demand="full_refund")

    case = out["case"]
    # Delivered meanwhile, never revealed: the key is revoked and the money goes back, and the
    # case's facts say it had been delivered (not what the delivery row said before the wait).
    assert case.stage == Stage.REFUNDED
    assert case.facts["delivery_status"] == "delivered"
    assert Delivery.objects.get(order=order).status == "delivered"
    assert_invariants()


def test_a_request_queued_behind_the_close_of_the_open_case_is_accepted(on_postgres):
    buyer = f.buyer(balance=50_00)
    order = delivered_custom_order(buyer, price=50_00)
    first = submit_refund(
        order=order, actor=buyer, reason="other", demand="full_refund", description="没做完"
    )

    _hold_the_order_lock_then(
        order.pk,
        lambda _o: RefundCase.objects.filter(pk=first.pk).update(is_open=False, stage=Stage.CANCELLED),
    )
    out = _submit_in_thread(
        order=order, actor=buyer, reason="other", demand="full_refund", description="再次申请"
    )

    assert "error" not in out, out
    assert out["case"].is_open and out["case"].pk != first.pk


def test_a_request_queued_behind_the_filing_of_a_case_is_refused_and_pays_nothing(on_postgres):
    buyer = f.buyer()
    order = undelivered_key_order(buyer, f.product(price=20_00, keys=1))

    # Another request files a case that stays open (an agent's review) while the objective request
    # waits for the order lock; the waiting one must see it once it gets the lock.
    _hold_the_order_lock_then(
        order.pk,
        lambda o: RefundCase.objects.create(
            order=o,
            buyer=buyer,
            seller=o.seller,
            created_by=buyer,
            reason="other",
            demand="full_refund",
            amount_requested=o.amount,
            stage=Stage.PLATFORM_REVIEW,
            holder="agent",
        ),
    )
    out = _submit_in_thread(order=order, actor=buyer, reason="not_received", demand="full_refund")

    assert isinstance(out.get("error"), RefundError), out
    assert "进行中的退款申请" in str(out["error"])
    assert list(RefundCase.objects.filter(order=order).values_list("is_open", flat=True)) == [True]
    assert buyer_balance(buyer) == 0 and not Transaction.objects.filter(kind="refund").exists()
    assert_invariants()


def _partly_refunded_and_appealed():
    from kameng.refunds.services import appeal

    from .test_flows import in_review

    buyer, seller, _order, case = in_review(price=300_00)
    case = decide("partial", case_id=case.pk, agent=agent(), amount=120_00, note="部分未达标")
    return buyer, seller, appeal(case_id=case.pk, buyer=buyer, note="请全退")


def test_two_supervisors_deciding_the_same_appeal_pay_the_rest_once(on_postgres):
    from kameng.accounts.models import Role
    from kameng.evidence.models import Event

    from .helpers import staff

    buyer, _seller, case = _partly_refunded_and_appealed()
    bosses = [staff(Role.SUPERVISOR), staff(Role.SUPERVISOR)]

    results = at_once(2, lambda i: decide("approve", case_id=case.pk, agent=bosses[i], note="申诉成立").stage)

    assert [value for outcome, value in results if outcome == "ok"] == [Stage.REFUNDED]
    assert all(isinstance(e, RefundError) for e in _errors(results)), results
    assert buyer_balance(buyer) == 300_00  # 120 before, the rest once
    decisions = Event.objects.filter(stream=case.stream, kind="decision")
    assert decisions.count() == 2  # the partial decision and one answer to the appeal
    assert_invariants()


def test_a_buyer_appeal_and_a_seller_contest_at_once_make_one_appeal(on_postgres):
    from kameng.refunds.services import appeal, contest

    from .test_flows import in_review

    buyer, seller, _order, case = in_review(price=300_00)
    case = decide("partial", case_id=case.pk, agent=agent(), amount=120_00, note="部分未达标")
    moves = [
        lambda: appeal(case_id=case.pk, buyer=buyer, note="退得太少"),
        lambda: contest(case_id=case.pk, seller_user=seller.owner, note="不该退"),
    ]

    results = at_once(2, lambda i: moves[i]().appealed_by_id)

    winners = [value for outcome, value in results if outcome == "ok"]
    assert len(winners) == 1 and winners[0] in (buyer.pk, seller.owner_id)
    assert all("已申诉过" in str(e) for e in _errors(results)), results
    case = RefundCase.objects.get(pk=case.pk)
    assert case.stage == Stage.APPEALED and case.appealed_by_id == winners[0]
    assert buyer_balance(buyer) == 120_00
    assert_invariants()
