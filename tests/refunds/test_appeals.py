"""Appeals and staff decisions (issue 14, item 8): the buyer appeals a partial refund or a
replacement, the seller contests a decision it pays for, a partial refund is less than all of it,
every paying decision pays only the amount the person confirmed, and only the one who claimed a
case decides it."""

from datetime import timedelta

import pytest
from django.db.models import Sum
from freezegun import freeze_time

from kameng.accounts.models import Role
from kameng.evidence.models import Event
from kameng.orders.services import place_order, reveal_card_keys
from kameng.refunds import settlement
from kameng.refunds.models import Holder, Payout, Stage
from kameng.refunds.services import (
    RefundError,
    appeal,
    approve_part,
    approve_refund,
    claim,
    contest,
    finance_decide,
    fire_timer,
    preview_decision,
    seller_agree,
    submit_refund,
)
from kameng.refunds.settlement import settle_due_orders
from kameng.wallet.models import Transaction
from kameng.wallet.services import REVENUE, balance_of, buyer_balance, seller_code
from tests import factories as f

from .helpers import agent, assert_invariants, decide, delivered_custom_order, make_due, open_deadline, staff
from .test_flows import dispute, in_review

pytestmark = pytest.mark.django_db

S = Stage


def paid(case) -> int:
    return Payout.objects.filter(case=case).aggregate(s=Sum("amount"))["s"] or 0


def partly_refunded(price=300_00, part=120_00):
    buyer, seller, order, case = in_review(price=price)
    case = decide("partial", case_id=case.pk, agent=agent(), amount=part, note="部分未达标")
    assert case.stage == S.REFUNDED and buyer_balance(buyer) == part
    return buyer, seller, order, case


def supervisor():
    return staff(Role.SUPERVISOR)


# --- the buyer appeals a partial decision -------------------------------------------------------------


def test_a_buyer_appeals_a_partial_refund_and_the_supervisor_pays_only_the_rest():
    buyer, _seller, _order, case = partly_refunded()

    case = appeal(case_id=case.pk, buyer=buyer, note="全部未达标，请退全款")

    assert case.stage == S.APPEALED and case.is_open
    assert case.holder == Holder.SUPERVISOR and case.appealed_by_id == buyer.pk
    case = decide("approve", case_id=case.pk, agent=supervisor(), note="申诉成立")

    assert case.stage == S.REFUNDED
    assert buyer_balance(buyer) == 300_00  # 120 before the appeal, 180 now: the whole order, once
    assert paid(case) == 300_00
    assert case.amount_approved == 300_00
    assert Transaction.objects.filter(kind="refund").count() == 2
    with pytest.raises(RefundError, match="已申诉过"):
        appeal(case_id=case.pk, buyer=buyer, note="再来")
    assert_invariants()


def test_on_appeal_a_supervisor_may_raise_a_partial_refund_but_only_between_what_was_paid_and_all():
    buyer, _seller, _order, case = partly_refunded()
    appeal(case_id=case.pk, buyer=buyer, note="退得太少")
    boss = supervisor()
    case = claim(case_id=case.pk, agent=boss)

    for wrong in (120_00, 100_00, 300_00):
        with pytest.raises(RefundError, match=r"大于 ¥120\.00 且小于可退全额 ¥300\.00"):
            preview_decision(case=case, agent=boss, decision="partial", amount=wrong)
    assert preview_decision(case=case, agent=boss, decision="partial", amount=200_00).now == 80_00

    case = approve_part(case_id=case.pk, agent=boss, amount=200_00, note="再退 80", confirmed_amount=80_00)

    assert case.stage == S.REFUNDED and buyer_balance(buyer) == 200_00 and paid(case) == 200_00
    assert_invariants()


def test_a_supervisor_upholding_a_partial_refund_leaves_it_paid_and_final():
    buyer, _seller, _order, case = partly_refunded()
    appeal(case_id=case.pk, buyer=buyer, note="请复核")

    case = decide("reject", case_id=case.pk, agent=supervisor(), note="维持部分退款")

    assert case.stage == S.REFUNDED and not case.is_open
    assert buyer_balance(buyer) == 120_00
    assert "维持原处理结果" in case.why
    with pytest.raises(RefundError, match="已申诉过"):
        appeal(case_id=case.pk, buyer=buyer, note="再申诉")


def test_a_new_case_in_the_appeal_window_and_the_appeal_never_refund_twice():
    buyer, _seller, order, case = partly_refunded()

    second = dispute(buyer, order)  # the first case is closed: a new one may start, for the rest only
    assert second.amount_requested == 180_00
    with pytest.raises(RefundError, match="进行中的退款申请"):
        appeal(case_id=case.pk, buyer=buyer, note="请复核")
    assert second.stage == S.AWAITING_SELLER
    seller_agree(case_id=second.pk, seller_user=order.seller.owner)
    assert buyer_balance(buyer) == 300_00

    with pytest.raises(RefundError, match="已无可退款项"):
        appeal(case_id=case.pk, buyer=buyer, note="请复核")
    assert_invariants()


def test_a_buyer_appeals_a_replacement_and_gets_the_money():
    buyer = f.buyer(balance=50_00)
    order = place_order(buyer=buyer, product=f.product(price=50_00, keys=3, of=f.seller(platform=True)))
    reveal_card_keys(order_id=order.pk, buyer=buyer)
    case = submit_refund(order=order, actor=buyer, reason="other", demand="full_refund", description="打不开")
    assert case.stage == S.PLATFORM_REVIEW
    case = decide("replace", case_id=case.pk, agent=agent(), note="补发一张")
    assert case.stage == S.REPLACEMENT

    case = appeal(case_id=case.pk, buyer=buyer, note="新卡也不能用，要退款")
    case = decide("approve", case_id=case.pk, agent=supervisor(), note="改为退款")

    assert case.stage == S.REFUNDED and buyer_balance(buyer) == 50_00
    assert_invariants()


def test_no_appeal_after_a_full_approval_or_out_of_the_window():
    buyer, _seller, _order, case = in_review(price=100_00)
    case = decide("approve", case_id=case.pk, agent=agent(), note="同意")
    with pytest.raises(RefundError, match="只有被驳回、部分退款或补发"):
        appeal(case_id=case.pk, buyer=buyer, note="?")

    buyer, _seller, _order, case = partly_refunded()
    with (
        freeze_time(case.appeal_until + timedelta(seconds=1)),
        pytest.raises(RefundError, match="申诉期已过"),
    ):
        appeal(case_id=case.pk, buyer=buyer, note="晚了")


def test_the_appeal_window_is_the_policy_clause_not_a_constant():
    from kameng.refunds import policy
    from kameng.refunds.models import Clause

    c10 = Clause.objects.get(number=10, is_current=True)
    c10.params = {**c10.params, "days": 2}
    c10.save()
    policy.clear_cache()
    _buyer, _seller, _order, case = partly_refunded()
    window = case.appeal_until - Event.objects.filter(stream=case.stream).order_by("-seq").first().created_at
    assert timedelta(days=2) - timedelta(minutes=1) < window < timedelta(days=2, minutes=1)


# --- the seller contests a decision it pays for -------------------------------------------------------


def test_a_seller_contests_a_staff_approval_and_the_supervisor_finds_for_it():
    buyer, seller, _order, case = in_review(price=300_00)
    case = decide("approve", case_id=case.pk, agent=agent(), note="同意")
    assert case.stage == S.REFUNDED and buyer_balance(buyer) == 300_00
    revenue_before = balance_of(REVENUE)

    case = contest(case_id=case.pk, seller_user=seller.owner, note="买家已确认收货，报告达标")

    assert case.stage == S.APPEALED and case.holder == Holder.SUPERVISOR
    assert case.appealed_by_id == seller.owner_id and case.is_open
    with pytest.raises(RefundError, match="已申诉过"):
        appeal(case_id=case.pk, buyer=buyer, note="我也申诉")
    with pytest.raises(RefundError, match="主管"):
        decide("for_seller", case_id=case.pk, agent=agent(), note="支持卖家")

    case = decide("for_seller", case_id=case.pk, agent=supervisor(), note="交付记录显示达标")

    assert case.stage == S.REFUNDED and not case.is_open
    assert buyer_balance(buyer) == 300_00  # what reached the buyer stays there
    assert balance_of(seller_code(seller.pk)) == 300_00  # the platform makes the seller whole
    assert balance_of(REVENUE) == revenue_before - 300_00
    assert_invariants()


def test_a_seller_contest_holds_the_orders_settlement_until_the_supervisor_decides():
    buyer, seller, order, case = partly_refunded()
    contest(case_id=case.pk, seller_user=seller.owner, note="不应退款")
    with freeze_time(order.delivered_at + timedelta(days=30)):
        settle_due_orders()
    assert balance_of(seller_code(seller.pk)) == 0  # the rest of the escrow waits for the answer

    decide("reject", case_id=case.pk, agent=supervisor(), note="维持")
    # A held order is looked at again an hour later (settlement.RECHECK), not on every tick.
    with freeze_time(order.delivered_at + timedelta(days=30) + settlement.RECHECK + timedelta(minutes=1)):
        settle_due_orders()
    assert balance_of(seller_code(seller.pk)) == 180_00
    assert buyer_balance(buyer) == 120_00
    assert_invariants()


def test_a_seller_contests_an_approval_its_silence_decided():
    buyer, seller = f.buyer(balance=100_00), f.seller()

    case = dispute(buyer, delivered_custom_order(buyer, price=100_00, seller=seller))
    make_due(case)
    fire_timer(timer_id=open_deadline(case).pk)
    case.refresh_from_db()
    assert case.stage == S.REFUNDED

    case = contest(case_id=case.pk, seller_user=seller.owner, note="当时系统故障未收到通知")

    assert case.stage == S.APPEALED


def test_a_seller_cannot_contest_what_it_agreed_to_or_another_sellers_case():
    buyer, seller = f.buyer(balance=100_00), f.seller()

    case = dispute(buyer, delivered_custom_order(buyer, price=100_00, seller=seller))
    case = seller_agree(case_id=case.pk, seller_user=seller.owner)
    with pytest.raises(RefundError, match="由您承担"):
        contest(case_id=case.pk, seller_user=seller.owner, note="反悔")
    with pytest.raises(RefundError, match="不存在"):
        contest(case_id=case.pk, seller_user=f.seller().owner, note="?")


# --- decisions: partial < all, the confirmed amount, claim first ---------------------------------------


def test_a_staff_partial_refund_of_the_whole_amount_is_refused():
    buyer, _seller, _order, case = in_review(price=100_00)
    who = agent()
    claim(case_id=case.pk, agent=who)

    with pytest.raises(RefundError, match=r"小于可退全额 ¥100\.00"):
        approve_part(case_id=case.pk, agent=who, amount=100_00, note="全退", confirmed_amount=100_00)

    assert buyer_balance(buyer) == 0


def test_a_decision_pays_only_the_amount_confirmed():
    buyer, _seller, _order, case = in_review(price=100_00)
    who = agent()
    claim(case_id=case.pk, agent=who)

    with pytest.raises(RefundError, match=r"退款金额已变为 ¥100\.00"):
        approve_refund(case_id=case.pk, agent=who, note="同意", confirmed_amount=60_00)
    with pytest.raises(RefundError, match=r"退款金额已变为 ¥30\.00"):
        approve_part(case_id=case.pk, agent=who, amount=30_00, note="部分", confirmed_amount=40_00)
    case.refresh_from_db()
    assert case.stage == S.PLATFORM_REVIEW and buyer_balance(buyer) == 0

    shown = preview_decision(case=case, agent=who, decision="approve")
    assert (shown.now, shown.finance) == (100_00, False)
    assert "平台余额" in shown.destination
    approve_refund(case_id=case.pk, agent=who, note="同意", confirmed_amount=shown.now)
    assert buyer_balance(buyer) == 100_00


def test_only_the_agent_who_claimed_a_case_decides_it():
    buyer, _seller, _order, case = in_review(price=100_00)
    first, second = agent(), agent()

    with pytest.raises(RefundError, match="请先认领"):
        approve_refund(case_id=case.pk, agent=first, note="同意", confirmed_amount=100_00)
    claim(case_id=case.pk, agent=first)
    with pytest.raises(RefundError, match=r"已由 .* 认领"):
        claim(case_id=case.pk, agent=second)
    with pytest.raises(RefundError, match="只有认领人"):
        approve_refund(case_id=case.pk, agent=second, note="同意", confirmed_amount=100_00)

    approve_refund(case_id=case.pk, agent=first, note="同意", confirmed_amount=100_00)
    assert buyer_balance(buyer) == 100_00


def test_the_claim_goes_with_a_case_returned_to_review_by_finance():
    _buyer, _seller, _order, case = in_review(price=600_00)
    case = decide("approve", case_id=case.pk, agent=agent(), note="同意")
    assert case.stage == S.FINANCE_REVIEW
    case = finance_decide(case_id=case.pk, user=staff(Role.FINANCE), approve=False, note="金额不符")

    assert case.stage == S.PLATFORM_REVIEW and case.holder_user_id is None
    with pytest.raises(RefundError, match="请先认领"):
        approve_refund(case_id=case.pk, agent=agent(), note="同意", confirmed_amount=600_00)


def test_an_appeal_says_why():
    buyer, _seller, _order, case = partly_refunded()
    with pytest.raises(RefundError, match="申诉理由"):
        appeal(case_id=case.pk, buyer=buyer, note="  ")
