"""Whatever anyone does, in any order, the case moves only along TRANSITIONS and money stays sound.

Hypothesis plays buyers, sellers, agents, finance, supervisors and the clock against random orders;
after every step the invariants of the engine are checked, and a refused action must be a
RefundError (a message for the person), never another exception.
"""

import itertools
import os

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kameng.accounts.models import Role
from kameng.orders.models import OrderStatus
from kameng.orders.services import place_order, reveal_card_keys
from kameng.refunds import services as engine
from kameng.refunds.actions.common import CaseChange, move
from kameng.refunds.models import Payout, RefundCase, Stage, Timer
from kameng.refunds.services import RefundError
from kameng.refunds.stages import TRANSITIONS
from tests import factories as f

from .helpers import (
    assert_invariants,
    decide,
    delivered_custom_order,
    evidence_for,
    gateway_order,
    keys,
    make_due,
    pay_online,
    screenshot,
    staff,
    undelivered_key_order,
)

pytestmark = pytest.mark.django_db

_n = itertools.count()


class _Rollback(Exception):
    pass


@pytest.fixture
def people():
    buyer = f.buyer()
    for _ in range(4):
        f.fund(buyer, 5_000_00)
    return {
        "buyer": buyer,
        "stranger": f.buyer(),
        "agent": staff(Role.AGENT),
        "agent_finance": staff(Role.AGENT, Role.FINANCE),
        "finance": staff(Role.FINANCE),
        "supervisor": staff(Role.SUPERVISOR),
        "third_party": f.seller(),
        "platform": f.seller(platform=True),
    }


RECIPES = [
    "key_unviewed",
    "key_viewed",
    "key_used",
    "key_bad",
    "key_undelivered",
    "key_paid_twice",
    "topup_ok",
    "topup_failed",
    "topup_unknown",
    "activation_waiting",
    "custom_delivered",
    "custom_waiting",
]


def make_order(p, recipe: str, price: int, platform: bool):
    buyer, seller = p["buyer"], p["platform"] if platform else p["third_party"]
    n = next(_n)
    if recipe.startswith("key_"):
        product = f.product(price=price, of=seller)
        if recipe == "key_undelivered":
            keys(product, f"K{n}-A")
            return undelivered_key_order(buyer, product)
        text = {"key_used": "USED", "key_bad": "BAD"}.get(recipe, "OK")
        keys(product, f"{text}-{n}-A", f"OK-{n}-B")
        if recipe == "key_paid_twice":
            return gateway_order(buyer, product, pays=2)
        order = place_order(buyer=buyer, product=product)
        if recipe != "key_unviewed":
            reveal_card_keys(order_id=order.pk, buyer=buyer)
        return order
    if recipe.startswith("topup_"):
        product = f.product(kind="direct_topup", price=price, of=seller)
        account = {"topup_failed": "fail-1", "topup_unknown": "unknown-1"}.get(recipe, "uid-1")
        return place_order(buyer=buyer, product=product, target_account=account)
    if recipe == "activation_waiting":
        return place_order(
            buyer=buyer, product=f.product(kind="activation", price=price, of=seller), target_account="a"
        )
    if recipe == "custom_delivered":
        return delivered_custom_order(buyer, price=price, seller=seller)
    return place_order(buyer=buyer, product=f.product(kind="custom_service", price=price, of=seller))


SUBMIT = st.tuples(
    st.just("submit"),
    st.sampled_from(
        ["not_received", "duplicate_payment", "invalid_key", "not_working", "not_as_described", "other"]
    ),
    st.sampled_from(["full_refund", "partial_refund", "replacement"]),
    st.sampled_from([None, 1_00, 5_00, 10**9]),
    st.sampled_from(["balance", "original"]),
    st.just(True),
)
ACTIONS = st.one_of(
    SUBMIT,
    st.tuples(
        st.just("submit"),
        st.sampled_from(
            ["not_received", "duplicate_payment", "invalid_key", "not_working", "not_as_described", "other"]
        ),
        st.sampled_from(["full_refund", "partial_refund", "replacement"]),
        st.sampled_from([None, 1_00, 5_00, 10**9]),
        st.sampled_from(["balance", "original"]),
        st.booleans(),  # all the evidence asked for
    ),
    st.tuples(st.just("seller_agree")),
    st.tuples(st.just("seller_refuse"), st.booleans()),
    st.tuples(
        st.just("seller_offer"),
        st.sampled_from(["partial", "replacement", "nonsense"]),
        st.sampled_from([None, 1_00, 10**9]),
    ),
    st.tuples(st.just("buyer_answer"), st.booleans()),
    st.tuples(st.just("request_info")),
    st.tuples(st.just("add_material")),
    st.tuples(
        st.just("decide"),
        st.sampled_from(["agent", "agent_finance", "supervisor", "finance", "buyer"]),
        st.sampled_from(["approve", "partial", "replace", "reject", "for_seller"]),
        st.sampled_from([None, 1_00, 3_00, 10**9]),
    ),
    st.tuples(st.just("finance"), st.sampled_from(["finance", "agent_finance", "agent"]), st.booleans()),
    st.tuples(st.just("cancel"), st.sampled_from(["buyer", "stranger"])),
    st.tuples(st.just("appeal")),
    st.tuples(st.just("contest")),
    st.tuples(st.just("follow_up")),
    st.tuples(st.just("fire")),
    st.tuples(st.just("gateway")),
    st.tuples(st.just("pay_again")),
)


def act(p, order, action) -> None:
    """One step by one person (or the clock) on the order's latest case."""
    case = RefundCase.objects.filter(order=order).order_by("-id").first()
    case_id = case.pk if case else 10**9
    buyer = p["buyer"]
    seller_owner = order.seller.owner or p["stranger"]
    name, *args = action
    if name == "submit":
        reason, demand, amount, refund_to, complete = args
        order.refresh_from_db()
        engine.submit_refund(
            order=order,
            actor=buyer,
            reason=reason,
            demand=demand,
            amount=amount,
            refund_to=refund_to,
            description="随机步骤",
            evidence=evidence_for(reason, order.kind) if complete else [],
        )
    elif name == "seller_agree":
        engine.seller_agree(case_id=case_id, seller_user=seller_owner)
    elif name == "seller_refuse":
        engine.seller_refuse(
            case_id=case_id,
            seller_user=seller_owner,
            note="已交付",
            evidence=[screenshot("x")] if args[0] else [],
        )
    elif name == "seller_offer":
        engine.seller_offer(case_id=case_id, seller_user=seller_owner, offer=args[0], amount=args[1])
    elif name == "buyer_answer":
        engine.buyer_answer_offer(case_id=case_id, buyer=buyer, accept=args[0])
    elif name == "request_info":
        engine.request_info(case_id=case_id, agent=p["agent"], note="请补充")
    elif name == "add_material":
        engine.add_material(case_id=case_id, buyer=buyer, note="补充说明")
    elif name == "decide":
        who, decision, amount = args
        decide(decision, case_id=case_id, agent=p[who], amount=amount)
    elif name == "finance":
        who, approve = args
        engine.finance_decide(case_id=case_id, user=p[who], approve=approve, note="复核")
    elif name == "cancel":
        engine.cancel(case_id=case_id, buyer=p[args[0]])
    elif name == "appeal":
        engine.appeal(case_id=case_id, buyer=buyer, note="申诉理由")
    elif name == "contest":
        engine.contest(case_id=case_id, seller_user=seller_owner, note="卖家申诉理由")
    elif name == "follow_up":
        engine.follow_up(case_id=case_id, buyer=buyer)
    elif name == "fire" and case is not None:
        make_due(case)
        for dl in Timer.objects.filter(case=case, done_at__isnull=True):
            engine.fire_timer(timer_id=dl.pk)
    elif name == "gateway" and case is not None:
        for payout in Payout.objects.filter(case=case).exclude(status=Payout.Status.SUCCEEDED):
            engine.complete_gateway_refund(payout_id=payout.pk)
    elif name == "pay_again" and order.pay_method == "gateway" and order.status != OrderStatus.PENDING:
        pay_online(order, buyer)


@settings(
    max_examples=int(os.environ.get("KAMENG_REFUND_EXAMPLES", "30")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    orders=st.lists(
        st.tuples(st.sampled_from(RECIPES), st.sampled_from([10_00, 600_00]), st.booleans()),
        min_size=1,
        max_size=2,
    ),
    first=SUBMIT,
    steps=st.lists(st.tuples(st.integers(0, 1), ACTIONS), min_size=1, max_size=12),
)
def test_any_sequence_of_actions_keeps_the_engine_sound(people, orders, first, steps):
    steps = [(0, first), *steps]
    try:
        with transaction.atomic():  # each example starts from the same database
            built = [make_order(people, recipe, price, platform) for recipe, price, platform in orders]
            for index, action in steps:
                order = built[index % len(built)]
                try:
                    act(people, order, action)
                except RefundError:
                    pass  # refused with a message for the person: fine
                assert_invariants()
            raise _Rollback
    except _Rollback:
        pass


def test_every_move_outside_the_table_is_refused():
    refused = 0
    for current in Stage.values:
        for target in Stage.values:
            if target in TRANSITIONS[current]:
                continue
            case = RefundCase(stage=current)
            with pytest.raises(RefundError):
                move(CaseChange(case=case, order=None), target, holder="system", reason="x")
            assert case.stage == current
            refused += 1
    assert refused == len(Stage.values) ** 2 - sum(len(v) for v in TRANSITIONS.values())
