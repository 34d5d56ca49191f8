"""Deadlines do what the clauses say when nobody acts, on the clock or on the Chinese working calendar."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from freezegun import freeze_time

from kameng.accounts.models import Role
from kameng.evidence.models import Event
from kameng.ops.tick import tick
from kameng.orders.models import Order
from kameng.orders.services import place_order
from kameng.refunds.models import Holder, RefundCase, Stage, Timer
from kameng.refunds.services import (
    finance_decide,
    fire_timer,
    request_info,
    seller_refuse,
    submit_refund,
)
from kameng.refunds.timers import enqueue_due
from kameng.wallet.services import buyer_balance
from kameng.workdays.calendar import is_workday, untrusted_years_in
from tests import factories as f

from .helpers import (
    agent,
    decide,
    delivered_custom_order,
    evidence_for,
    open_deadline,
    screenshot,
    staff,
)

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
S = Stage


def dispute(*, price=100_00, platform=False):
    buyer = f.buyer(balance=price)
    seller = f.seller(platform=platform)
    order = delivered_custom_order(buyer, price=price, seller=seller)
    case = submit_refund(
        order=order,
        actor=buyer,
        reason="not_as_described",
        demand="full_refund",
        evidence=evidence_for("not_as_described", "custom_service"),
    )
    return buyer, seller, case


def in_review(**kwargs):
    buyer, seller, case = dispute(**kwargs)
    if case.stage == S.AWAITING_SELLER:
        case = seller_refuse(
            case_id=case.pk, seller_user=seller.owner, note="已交付", evidence=[screenshot("x")]
        )
    return buyer, case


# The worker opens its own connection: on PostgreSQL it must see committed data.
@pytest.mark.django_db(transaction=True)
def test_seller_silence_is_agreement_at_the_deadline_and_not_a_second_before(drain_tasks):
    buyer, _seller, case = dispute()
    due = case.deadline_at

    assert enqueue_due(now=due - timedelta(seconds=1)) == 0
    assert fire_timer(timer_id=open_deadline(case).pk, now=due - timedelta(seconds=1)) == "not due"
    case.refresh_from_db()
    assert case.stage == S.AWAITING_SELLER

    with freeze_time(due, tick=True):
        assert tick(now=due)["deadlines"] == 1
        drain_tasks()

    case.refresh_from_db()
    assert case.stage == S.REFUNDED
    assert case.decision_clause.startswith("6@")  # v0 when a transactional test flushed the seeded clauses
    assert buyer_balance(buyer) == 100_00
    decision = Event.objects.get(stream=case.stream, kind="decision")
    assert decision.clause == case.decision_clause
    assert decision.actor is None  # the system, not a person
    assert enqueue_due(now=due + timedelta(hours=1)) == 0  # fired once, never again


def test_buyer_silence_in_needs_info_goes_back_to_review_with_the_time_that_was_left():
    _buyer, case = in_review()
    case = request_info(case_id=case.pk, agent=agent(), note="请补充查重报告")
    left = case.paused_remaining
    buyer_due = case.deadline_at
    assert left > timedelta(days=2)

    outcome = fire_timer(timer_id=open_deadline(case).pk, now=buyer_due)

    assert outcome == "decide on what is there"
    case.refresh_from_db()
    assert case.stage == S.PLATFORM_REVIEW
    assert "按现有材料处理" in case.why
    assert case.deadline_at == buyer_due + left
    assert open_deadline(case).kind == "review"


def test_a_missed_review_deadline_is_escalated_to_a_supervisor():
    _buyer, case = in_review()
    due = case.deadline_at

    assert fire_timer(timer_id=open_deadline(case).pk, now=due) == "escalated"

    case.refresh_from_db()
    assert case.stage == S.PLATFORM_REVIEW
    assert case.holder == Holder.SUPERVISOR
    assert "主管" in case.why
    assert case.deadline_at > due
    assert Event.objects.filter(stream=case.stream, kind="escalated").exists()


def test_a_missed_finance_deadline_is_escalated():
    _buyer, case = in_review(price=900_00)
    case = decide("approve", case_id=case.pk, agent=agent(), note="同意")
    assert case.stage == S.FINANCE_REVIEW
    due = case.deadline_at

    assert fire_timer(timer_id=open_deadline(case).pk, now=due) == "escalated"

    case.refresh_from_db()
    assert case.stage == S.FINANCE_REVIEW  # still finance's to approve, now with a supervisor pushing
    assert case.deadline_at > due
    assert "主管" in case.why
    assert open_deadline(case).kind == "escalated"
    case = finance_decide(case_id=case.pk, user=staff(Role.FINANCE), approve=True)
    assert case.stage == S.REFUNDED


def test_a_stale_deadline_does_nothing():
    buyer, seller, case = dispute()
    old = open_deadline(case)
    seller_refuse(case_id=case.pk, seller_user=seller.owner, note="已交付", evidence=[screenshot("x")])

    assert fire_timer(timer_id=old.pk, now=old.due_at + timedelta(days=30)) == "already"
    case.refresh_from_db()
    assert case.stage == S.PLATFORM_REVIEW
    assert buyer_balance(buyer) == 0


# --- the working calendar ---------------------------------------------------------------------------------


def test_a_review_starting_before_national_day_is_due_after_the_holiday():
    start = datetime(2026, 9, 30, 10, 0, tzinfo=SHANGHAI)
    with freeze_time(start):
        _buyer, case = in_review(platform=True)

    # 1–7 October are holidays; 8 and 9 October work, and Saturday 10 October is a 调休 working day.
    assert timezone.localtime(case.deadline_at) == datetime(2026, 10, 10, 10, 0, tzinfo=SHANGHAI)


def test_a_tiaoxiu_saturday_counts_as_a_working_day():
    saturday = datetime(2026, 2, 28).date()
    assert saturday.weekday() == 5 and is_workday(saturday)
    start = datetime(2026, 2, 27, 9, 30, tzinfo=SHANGHAI)  # Friday
    with freeze_time(start):
        _buyer, case = in_review(platform=True)

    # Three working days after Friday 27 February: Saturday 28 (调休), Monday 2 and Tuesday 3 March.
    assert timezone.localtime(case.deadline_at) == datetime(2026, 3, 3, 9, 30, tzinfo=SHANGHAI)


def test_a_deadline_crossing_into_2027_uses_the_weekend_fallback():
    assert untrusted_years_in(datetime(2027, 1, 1), datetime(2027, 1, 1)) == [2027]
    start = datetime(2026, 12, 30, 15, 0, tzinfo=SHANGHAI)  # Wednesday
    with freeze_time(start):
        _buyer, case = in_review(platform=True)

    # 31 December (2026 calendar), then 2027 by weekends only: Friday 1 and Monday 4 January.
    assert timezone.localtime(case.deadline_at) == datetime(2027, 1, 4, 15, 0, tzinfo=SHANGHAI)


# --- the tick reads an index, not every open case -----------------------------------------------------------


def _open_cases(n: int) -> None:
    """n open cases with deadlines far off: seller answers pending, and top-ups waiting on the supplier."""
    buyer = f.buyer(balance=n * 10_00)
    seller = f.seller()
    for i in range(n):
        if i % 5 == 0:
            product = f.product(kind="direct_topup", price=10_00, of=seller)
            order = place_order(buyer=buyer, product=product, target_account=f"unknown-{i}")
        else:
            order = delivered_custom_order(buyer, price=10_00, seller=seller)
        submit_refund(order=order, actor=buyer, reason="not_received", demand="full_refund")


def _many_more_open_cases(n: int) -> None:
    """Rows as the engine leaves them (built in bulk: the tick only reads them)."""
    template = RefundCase.objects.filter(stage=S.AWAITING_SELLER).select_related("order").first()
    order = template.order
    orders = Order.objects.bulk_create(
        [
            Order(
                no=f"BULK{order.pk}{i:05d}",
                buyer_id=order.buyer_id,
                product_id=order.product_id,
                seller_id=order.seller_id,
                kind=order.kind,
                unit_price=order.unit_price,
                amount=order.amount,
                pay_method=order.pay_method,
                status=order.status,
            )
            for i in range(n)
        ]
    )
    fields = [
        "buyer_id",
        "seller_id",
        "reason",
        "demand",
        "amount_requested",
        "created_by_id",
        "stage",
        "holder",
        "deadline_at",
    ]
    cases = RefundCase.objects.bulk_create(
        [RefundCase(order=o, **{k: getattr(template, k) for k in fields}) for o in orders]
    )
    waiting = [c.pk for c in cases[::2]]  # half of them wait on the supplier, as unknown top-ups do
    RefundCase.objects.filter(pk__in=waiting).update(stage=S.VERIFYING, holder=Holder.TECH)
    Timer.objects.bulk_create(
        [
            Timer(
                case=c,
                kind="supplier_answer" if c.pk in waiting else "seller_answer",
                stage=S.VERIFYING if c.pk in waiting else c.stage,
                due_at=c.deadline_at,
            )
            for c in cases
        ]
    )


def _count_enqueue_queries(django_assert_max_num_queries, limit):
    with django_assert_max_num_queries(limit) as ctx:
        enqueue_due(now=timezone.now())
    return len(ctx.captured_queries)


def test_the_tick_cost_does_not_grow_with_open_cases(django_assert_max_num_queries):
    _open_cases(10)
    with_ten = _count_enqueue_queries(django_assert_max_num_queries, 10)
    _many_more_open_cases(190)
    assert RefundCase.objects.filter(is_open=True).count() == 200

    with_two_hundred = _count_enqueue_queries(django_assert_max_num_queries, with_ten)

    assert with_two_hundred == with_ten
