"""Refund stories end to end, told as a buyer, a seller and the platform's staff live them."""

from datetime import timedelta

import pytest
from django.utils import timezone
from freezegun import freeze_time

from kameng.accounts.models import Role
from kameng.evidence.models import Event
from kameng.inventory.models import CardKey
from kameng.ops.tick import tick
from kameng.orders.models import Delivery, OrderStatus
from kameng.orders.services import lock_order, place_order, retry_delivery, reveal_card_keys
from kameng.orders.supplier import supplier
from kameng.payments import sandbox
from kameng.payments.models import GatewayRefund, SandboxRefund
from kameng.refunds import selectors
from kameng.refunds.models import Holder, Payout, RefundCase, Stage
from kameng.refunds.services import (
    RefundError,
    add_material,
    appeal,
    buyer_answer_offer,
    cancel,
    claim,
    finance_decide,
    fire_timer,
    follow_up,
    request_info,
    seller_agree,
    seller_offer,
    seller_refuse,
    submit_refund,
)
from kameng.wallet.models import Transaction
from kameng.wallet.services import buyer_balance, check_ledger
from kameng.workdays.calendar import add_working_days
from tests import factories as f

from .helpers import (
    agent,
    assert_invariants,
    decide,
    delivered_custom_order,
    evidence_for,
    gateway_order,
    keys,
    pay_online,
    screenshot,
    staff,
    stage_moves,
    undelivered_key_order,
)

pytestmark = pytest.mark.django_db

S = Stage


def dispute(buyer, order, *, demand="full_refund", amount=None):
    return submit_refund(
        order=order,
        actor=buyer,
        reason="not_as_described",
        demand=demand,
        amount=amount,
        description="查重率 32%，承诺低于 15%",
        evidence=evidence_for("not_as_described", "custom_service"),
    )


def last_move_at(case):
    return Event.objects.filter(stream=case.stream, kind="stage_changed").order_by("-seq").first().created_at


def in_review(*, price=300_00, platform=False):
    """A buyer's custom-service dispute that the seller refused: it waits in platform review."""
    buyer = f.buyer(balance=price)
    seller = f.seller(platform=platform)
    order = delivered_custom_order(buyer, price=price, seller=seller)
    case = dispute(buyer, order)
    if case.stage == S.AWAITING_SELLER:
        case = seller_refuse(
            case_id=case.pk, seller_user=seller.owner, note="已按要求交付", evidence=[screenshot("report")]
        )
    return buyer, seller, order, case


# --- a custom-service dispute, the whole way -----------------------------------------------------------


def test_custom_service_dispute_from_seller_to_review_to_a_partial_refund():
    buyer = f.buyer(balance=300_00)
    seller = f.seller()
    order = delivered_custom_order(buyer, price=300_00, seller=seller)
    assert buyer_balance(buyer) == 0

    case = dispute(buyer, order)

    assert case.stage == S.AWAITING_SELLER
    assert case.holder == Holder.SELLER
    assert abs(case.deadline_at - (last_move_at(case) + timedelta(hours=48))) < timedelta(seconds=2)
    assert "自动同意退款" in case.if_no_action
    with pytest.raises(RefundError, match="理由并上传证据"):
        seller_refuse(case_id=case.pk, seller_user=seller.owner, note="已交付", evidence=[])

    case = seller_refuse(
        case_id=case.pk, seller_user=seller.owner, note="已按要求交付", evidence=[screenshot("chat")]
    )

    assert case.stage == S.PLATFORM_REVIEW
    assert case.holder == Holder.AGENT
    review_started = last_move_at(case)
    assert abs(case.deadline_at - add_working_days(review_started, 3)) < timedelta(seconds=2)
    assert case.deadline_at - review_started >= timedelta(days=3)  # 3 working days, never fewer

    the_agent = agent()
    with freeze_time(timezone.now() + timedelta(hours=5), tick=True):
        case = request_info(case_id=case.pk, agent=the_agent, note="请上传完整的查重报告 PDF")
        left_on_the_clock = case.paused_remaining
    assert case.stage == S.NEEDS_INFO
    assert case.holder == Holder.BUYER
    assert left_on_the_clock is not None
    assert abs(
        left_on_the_clock - (add_working_days(review_started, 3) - review_started - timedelta(hours=5))
    ) < (timedelta(seconds=5))

    with freeze_time(timezone.now() + timedelta(hours=30), tick=True):  # the clock stood still meanwhile
        case = add_material(case_id=case.pk, buyer=buyer, note="完整报告见附件", evidence=[screenshot("pdf")])
        resumed = timezone.now()
    assert case.stage == S.PLATFORM_REVIEW
    assert abs(case.deadline_at - (resumed + left_on_the_clock)) < timedelta(seconds=5)
    assert case.paused_remaining is None

    case = decide("partial", case_id=case.pk, agent=the_agent, amount=120_00, note="按未达标部分退款")

    assert case.stage == S.REFUNDED
    assert case.amount_approved == 120_00
    assert buyer_balance(buyer) == 120_00
    assert stage_moves(case) == [
        (S.SUBMITTED, S.VERIFYING),
        (S.VERIFYING, S.AWAITING_SELLER),
        (S.AWAITING_SELLER, S.PLATFORM_REVIEW),
        (S.PLATFORM_REVIEW, S.NEEDS_INFO),
        (S.NEEDS_INFO, S.PLATFORM_REVIEW),
        (S.PLATFORM_REVIEW, S.PARTIALLY_APPROVED),
        (S.PARTIALLY_APPROVED, S.REFUNDING),
        (S.REFUNDING, S.REFUNDED),
    ]
    assert_invariants()


def test_seller_offers_a_partial_refund_and_the_buyer_accepts():
    buyer, seller = f.buyer(balance=200_00), f.seller()
    case = dispute(buyer, delivered_custom_order(buyer, price=200_00, seller=seller))

    case = seller_offer(
        case_id=case.pk, seller_user=seller.owner, offer="partial", amount=80_00, note="退一半"
    )
    assert case.stage == S.AWAITING_SELLER
    assert case.holder == Holder.BUYER
    with pytest.raises(RefundError):
        seller_agree(case_id=case.pk, seller_user=seller.owner)  # the offer stands until the buyer answers

    case = buyer_answer_offer(case_id=case.pk, buyer=buyer, accept=True)

    assert case.stage == S.REFUNDED
    assert buyer_balance(buyer) == 80_00
    assert (S.AWAITING_SELLER, S.PARTIALLY_APPROVED) in stage_moves(case)


def test_seller_offers_a_partial_refund_and_the_buyer_declines_so_the_platform_decides():
    buyer, seller = f.buyer(balance=200_00), f.seller()
    case = dispute(buyer, delivered_custom_order(buyer, price=200_00, seller=seller))
    seller_offer(case_id=case.pk, seller_user=seller.owner, offer="partial", amount=50_00)

    case = buyer_answer_offer(case_id=case.pk, buyer=buyer, accept=False)

    assert case.stage == S.PLATFORM_REVIEW
    assert case.holder == Holder.AGENT
    assert buyer_balance(buyer) == 0
    with pytest.raises(RefundError):
        buyer_answer_offer(case_id=case.pk, buyer=buyer, accept=True)


def test_seller_agrees_and_the_buyer_is_refunded_in_full():
    buyer, seller = f.buyer(balance=150_00), f.seller()
    order = delivered_custom_order(buyer, price=150_00, seller=seller)
    case = dispute(buyer, order)
    with pytest.raises(RefundError):
        seller_agree(case_id=case.pk, seller_user=f.seller().owner)  # another shop's owner

    case = seller_agree(case_id=case.pk, seller_user=seller.owner, note="同意")

    assert case.stage == S.REFUNDED
    assert buyer_balance(buyer) == 150_00
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED


# --- large amounts: finance --------------------------------------------------------------------------


def test_above_500_yuan_needs_a_second_person_from_finance():
    buyer, _seller, _order, case = in_review(price=800_00)
    agent_and_finance = staff(Role.AGENT, Role.FINANCE)

    case = decide("approve", case_id=case.pk, agent=agent_and_finance, note="证据充分")

    assert case.stage == S.FINANCE_REVIEW
    assert case.holder == Holder.FINANCE
    assert buyer_balance(buyer) == 0
    with pytest.raises(RefundError, match="同一人不能既审批又复核"):
        finance_decide(case_id=case.pk, user=agent_and_finance, approve=True)
    with pytest.raises(RefundError, match="权限"):
        finance_decide(case_id=case.pk, user=agent(), approve=True)

    case = finance_decide(case_id=case.pk, user=staff(Role.FINANCE), approve=True, note="核对无误")

    assert case.stage == S.REFUNDED
    assert buyer_balance(buyer) == 800_00
    assert_invariants()


def test_finance_can_send_a_large_refund_back_to_review_with_a_reason():
    buyer, _seller, _order, case = in_review(price=600_00)
    case = decide("approve", case_id=case.pk, agent=agent(), note="同意")
    finance = staff(Role.FINANCE)
    with pytest.raises(RefundError, match="写明原因"):
        finance_decide(case_id=case.pk, user=finance, approve=False)

    case = finance_decide(case_id=case.pk, user=finance, approve=False, note="金额与证据不符")

    assert case.stage == S.PLATFORM_REVIEW
    assert case.holder == Holder.AGENT
    assert "财务退回" in case.why
    assert buyer_balance(buyer) == 0


# --- rejection and appeal -----------------------------------------------------------------------------


def test_a_rejected_buyer_appeals_in_time_and_the_supervisor_decides():
    buyer, _seller, _order, case = in_review(price=100_00)
    case = decide("reject", case_id=case.pk, agent=agent(), clause_number=5, note="未达标证据不足")
    assert case.stage == S.REJECTED
    assert not case.is_open
    assert case.deadline_at - timezone.now() > timedelta(days=6)

    case = appeal(case_id=case.pk, buyer=buyer, note="补充了第三方查重报告")

    assert case.stage == S.APPEALED
    assert case.holder == Holder.SUPERVISOR
    assert case.is_open
    with pytest.raises(RefundError, match="主管"):
        decide("approve", case_id=case.pk, agent=agent(), note="同意")

    case = decide("approve", case_id=case.pk, agent=staff(Role.SUPERVISOR), note="申诉成立")

    assert case.stage == S.REFUNDED
    assert buyer_balance(buyer) == 100_00


def test_the_supervisor_answer_to_an_appeal_is_final():
    buyer, _seller, _order, case = in_review(price=100_00)
    decide("reject", case_id=case.pk, agent=agent(), note="证据不足")
    appeal(case_id=case.pk, buyer=buyer, note="请复核")

    case = decide("reject", case_id=case.pk, agent=staff(Role.SUPERVISOR), note="维持")

    assert case.stage == S.REJECTED
    with pytest.raises(RefundError, match="已申诉过"):
        appeal(case_id=case.pk, buyer=buyer, note="再申诉")


def test_an_appeal_after_the_window_is_refused():
    buyer, _seller, _order, case = in_review(price=100_00)
    case = decide("reject", case_id=case.pk, agent=agent(), note="证据不足")

    with freeze_time(case.deadline_at + timedelta(seconds=1)), pytest.raises(RefundError, match="申诉期已过"):
        appeal(case_id=case.pk, buyer=buyer, note="晚了")

    case.refresh_from_db()
    assert case.stage == S.REJECTED


# --- the buyer's own buttons --------------------------------------------------------------------------


def test_the_buyer_cancels_before_refunding_and_cannot_after():
    buyer, seller = f.buyer(balance=100_00), f.seller()
    case = dispute(buyer, delivered_custom_order(buyer, price=100_00, seller=seller))
    with pytest.raises(RefundError):
        cancel(case_id=case.pk, buyer=f.buyer())  # not theirs

    case = cancel(case_id=case.pk, buyer=buyer)

    assert case.stage == S.CANCELLED
    assert not case.is_open
    with pytest.raises(RefundError):
        seller_agree(case_id=case.pk, seller_user=seller.owner)

    refunded = submit_refund(
        order=case.order,
        actor=buyer,
        reason="not_as_described",
        demand="full_refund",
        evidence=evidence_for("not_as_described", "custom_service"),
    )
    refunded = seller_agree(case_id=refunded.pk, seller_user=seller.owner)
    assert refunded.stage == S.REFUNDED
    with pytest.raises(RefundError, match="不能执行"):
        cancel(case_id=refunded.pk, buyer=buyer)


def test_the_buyer_may_cancel_while_finance_reviews():
    buyer, _seller, _order, case = in_review(price=700_00)
    decide("approve", case_id=case.pk, agent=agent(), note="同意")

    case = cancel(case_id=case.pk, buyer=buyer)

    assert case.stage == S.CANCELLED
    assert buyer_balance(buyer) == 0


def test_follow_up_once_a_day():
    buyer, seller = f.buyer(balance=100_00), f.seller()
    case = dispute(buyer, delivered_custom_order(buyer, price=100_00, seller=seller))

    follow_up(case_id=case.pk, buyer=buyer)
    with pytest.raises(RefundError, match="下次可催时间") as refused:
        follow_up(case_id=case.pk, buyer=buyer)
    case.refresh_from_db()
    next_allowed = timezone.localtime(case.last_followup_at + timedelta(hours=24)).strftime("%m-%d %H:%M")
    assert next_allowed in str(refused.value)

    with freeze_time(case.last_followup_at + timedelta(hours=24, seconds=1)):
        follow_up(case_id=case.pk, buyer=buyer)

    assert Event.objects.filter(stream=case.stream, kind="follow_up").count() == 2
    assert f.told(seller.owner, "催促") == 2


def test_a_follow_up_on_a_case_no_one_has_claimed_reminds_the_whole_queue_that_holds_it():
    buyer = f.buyer(balance=100_00)
    agents = [agent(), agent()]
    finance = staff(Role.FINANCE)
    case = dispute(buyer, delivered_custom_order(buyer, price=100_00, seller=f.seller(platform=True)))
    assert (case.stage, case.holder, case.holder_user) == (S.PLATFORM_REVIEW, Holder.AGENT, None)

    follow_up(case_id=case.pk, buyer=buyer)

    for a in agents:
        assert f.told(a, "催促", link=f"/refunds/staff/{case.pk}/") == 1
    assert not f.told(finance, "催促")
    sentence = selectors.event_sentence(Event.objects.get(stream=case.stream, kind="follow_up"), case)
    assert "已提醒 2 人" in sentence

    claim(case_id=case.pk, agent=agents[1])
    with freeze_time(timezone.now() + timedelta(hours=24, seconds=1)):
        follow_up(case_id=case.pk, buyer=buyer)
    assert f.told(agents[0], "催促") == 1  # not the second time
    assert f.told(agents[1], "催促") == 2


# --- invalid keys after the buyer revealed them ---------------------------------------------------------


def revealed_key_order(*, texts, stock=(), platform=False, price=30_00):
    buyer = f.buyer(balance=price)
    product = f.product(price=price, of=f.seller(platform=platform))
    keys(product, *texts)
    order = place_order(buyer=buyer, product=product)
    reveal_card_keys(order_id=order.pk, buyer=buyer)
    if stock:
        keys(product, *stock)
    return buyer, product, order


def claim_invalid(buyer, order, demand):
    return submit_refund(
        order=order,
        actor=buyer,
        reason="invalid_key",
        demand=demand,
        evidence=evidence_for("invalid_key", "card_key"),
    )


@pytest.mark.parametrize(("platform", "expected"), [(False, S.AWAITING_SELLER), (True, S.PLATFORM_REVIEW)])
def test_a_redeemed_key_goes_to_the_seller_or_to_review(platform, expected):
    buyer, _product, order = revealed_key_order(texts=["USED-0001"], stock=["GOOD-0001"], platform=platform)

    case = claim_invalid(buyer, order, "replacement")

    assert case.stage == expected
    assert "已被兑换" in case.verified
    assert buyer_balance(buyer) == 0


def test_a_bad_batch_key_is_replaced_from_stock_at_once():
    buyer, _product, order = revealed_key_order(texts=["BAD-0001"], stock=["GOOD-0001"])

    case = claim_invalid(buyer, order, "replacement")

    assert case.stage == S.REPLACEMENT
    assert not case.is_open
    assert [k.secret for k in reveal_card_keys(order_id=order.pk, buyer=buyer)] == ["GOOD-0001"]
    assert CardKey.objects.filter(order=order, status="revoked").count() == 1
    assert buyer_balance(buyer) == 0


def test_a_bad_batch_key_is_refunded_when_the_buyer_wants_money():
    buyer, _product, order = revealed_key_order(texts=["BAD-0001"], stock=["GOOD-0001"])

    case = claim_invalid(buyer, order, "full_refund")

    assert case.stage == S.REFUNDED
    assert buyer_balance(buyer) == 30_00
    assert not CardKey.objects.filter(order=order, status="assigned").exists()


def test_a_bad_batch_key_is_refunded_when_no_stock_is_left():
    buyer, _product, order = revealed_key_order(texts=["BAD-0001"])

    case = claim_invalid(buyer, order, "replacement")

    assert case.stage == S.REFUNDED
    assert buyer_balance(buyer) == 30_00


def test_a_bad_batch_partial_demand_still_gets_all_the_money_when_the_order_is_voided():
    buyer, _product, order = revealed_key_order(texts=["BAD-0001"])

    case = submit_refund(
        order=order,
        actor=buyer,
        reason="invalid_key",
        demand="partial_refund",
        amount=10_00,
        evidence=evidence_for("invalid_key", "card_key"),
    )

    assert case.stage == S.REFUNDED
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED
    assert buyer_balance(buyer) == 30_00  # the key is revoked, so nothing of the order is kept


def test_replacements_are_capped_per_order_and_the_cap_sends_it_to_review():
    buyer, _product, order = revealed_key_order(texts=["BAD-0001"], stock=["BAD-0002"], platform=True)
    assert claim_invalid(buyer, order, "replacement").stage == S.REPLACEMENT
    reveal_card_keys(order_id=order.pk, buyer=buyer)

    case = claim_invalid(buyer, order, "replacement")

    assert case.stage == S.PLATFORM_REVIEW
    assert "上限" in case.why


def test_replacements_are_capped_per_seller():
    buyer, product, order = revealed_key_order(texts=["BAD-0001"], stock=["GOOD-0001"], platform=True)
    product.seller.max_auto_replacements = 0
    product.seller.save()

    case = claim_invalid(buyer, order, "replacement")

    assert case.stage == S.PLATFORM_REVIEW
    assert CardKey.objects.get(order=order).status == "assigned"


def test_replacing_an_order_still_waiting_for_stock_delivers_it_once():
    from django.db import transaction

    from kameng.orders import aftersales

    buyer = f.buyer()
    product = f.product(price=30_00, keys=1, of=f.seller(platform=True))
    order = undelivered_key_order(buyer, product)
    keys(product, "GOOD-0001", "GOOD-0002")

    with transaction.atomic():  # what `decide(replace)` does under the order lock
        aftersales.replace_goods(lock_order(order.pk))

    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED
    retry_delivery(order_id=order.pk)  # the restock retry finds nothing left to deliver
    assert CardKey.objects.filter(order=order, status="assigned").count() == 1


# --- paid twice, refunded to the original payment method ------------------------------------------------


# The worker opens its own connection: on PostgreSQL it must see committed data.
@pytest.mark.django_db(transaction=True)
def test_duplicate_payment_goes_back_to_the_gateway_through_the_worker(
    drain_tasks, django_capture_on_commit_callbacks
):
    buyer = f.buyer()
    order = gateway_order(buyer, f.product(price=25_00, keys=2), pays=2)

    with django_capture_on_commit_callbacks(execute=True):
        case = submit_refund(
            order=order, actor=buyer, reason="duplicate_payment", demand="full_refund", refund_to="original"
        )

    assert case.stage == S.REFUNDING
    assert case.deadline_at is not None and "财务" in case.if_no_action  # until when, and then what
    payout = Payout.objects.get(case=case)
    assert payout.status == Payout.Status.PENDING
    assert payout.method == "original"
    drain_tasks()
    case.refresh_from_db()
    assert case.stage == S.REFUNDED
    assert SandboxRefund.objects.count() == 1
    assert SandboxRefund.objects.get().amount == 25_00
    assert buyer_balance(buyer) == 0  # the money went back to the card, not to the balance
    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED
    assert_invariants()


# The worker opens its own connection: on PostgreSQL it must see committed data.
@pytest.mark.django_db(transaction=True)
def test_a_busy_gateway_is_retried_with_the_same_key_and_pays_back_once(
    drain_tasks, django_capture_on_commit_callbacks
):
    buyer = f.buyer()
    order = gateway_order(buyer, f.product(price=25_00, keys=2), pays=2)
    sandbox.sandbox_fail_next_refund(2)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            case = submit_refund(
                order=order,
                actor=buyer,
                reason="duplicate_payment",
                demand="full_refund",
                refund_to="original",
            )
        drain_tasks()
        refund = GatewayRefund.objects.get()
        assert refund.status == GatewayRefund.Status.FAILED
        assert refund.attempts == 1
        assert Payout.objects.get(case=case).status == Payout.Status.FAILED

        for minutes in (1, 2):
            tick(now=timezone.now() + timedelta(minutes=minutes))
            drain_tasks()
    finally:
        sandbox.sandbox_fail_next_refund(0)

    case.refresh_from_db()
    assert case.stage == S.REFUNDED
    refund = GatewayRefund.objects.get()  # the failed row was kept and reused, never a second key
    assert refund.status == GatewayRefund.Status.SUCCEEDED
    assert refund.attempts == 3
    assert SandboxRefund.objects.count() == 1
    assert SandboxRefund.objects.get().key == refund.key
    assert Transaction.objects.filter(kind="refund").count() == 1


def test_a_second_duplicate_claim_does_not_pay_the_extra_payment_back_twice():
    buyer = f.buyer()
    order = gateway_order(buyer, f.product(price=40_00, keys=2), pays=2)
    first = submit_refund(order=order, actor=buyer, reason="duplicate_payment", demand="full_refund")
    assert first.stage == S.REFUNDED

    with pytest.raises(RefundError, match="多付的款项已退回"):
        submit_refund(
            order=order,
            actor=buyer,
            reason="duplicate_payment",
            demand="full_refund",
            description="再退一次？",
        )

    # Refused outright: a case left to a seller's silence would auto-approve the order's own payment.
    assert RefundCase.objects.filter(order=order).count() == 1
    assert buyer_balance(buyer) == 40_00
    assert_invariants()


def test_a_third_payment_is_refunded_after_the_second():
    buyer = f.buyer()
    order = gateway_order(buyer, f.product(price=40_00, keys=2), pays=2)
    submit_refund(order=order, actor=buyer, reason="duplicate_payment", demand="full_refund")
    pay_online(order, buyer)

    case = submit_refund(order=order, actor=buyer, reason="duplicate_payment", demand="full_refund")

    assert case.stage == S.REFUNDED
    assert case.amount_approved == 40_00
    assert buyer_balance(buyer) == 80_00
    assert check_ledger() == []


# --- top-ups whose result is unknown ----------------------------------------------------------------------


def unknown_topup(seller=None):
    buyer = f.buyer(balance=50_00)
    product = f.product(kind="direct_topup", price=50_00, of=seller or f.seller())
    order = place_order(buyer=buyer, product=product, target_account="unknown-uid-7")
    assert order.status == OrderStatus.DELIVERING
    case = submit_refund(order=order, actor=buyer, reason="not_received", demand="full_refund")
    return buyer, order, case


def test_an_unknown_topup_waits_for_the_supplier_then_tech_takes_over_at_the_deadline():
    _buyer, _order, case = unknown_topup()

    assert case.stage == S.VERIFYING
    assert case.holder == Holder.SYSTEM  # the system is asking the supplier, every minute
    assert abs(case.deadline_at - (last_move_at(case) + timedelta(hours=24))) < timedelta(seconds=2)
    assert "技术核验" in case.if_no_action

    due = case.timers.get(kind="supplier_answer", done_at__isnull=True)
    fire_timer(timer_id=due.pk, now=due.due_at + timedelta(seconds=1))

    case.refresh_from_db()
    assert (case.stage, case.holder) == (S.PLATFORM_REVIEW, Holder.TECH)


# The worker opens its own connection: on PostgreSQL it must see committed data.
@pytest.mark.django_db(transaction=True)
def test_the_supplier_settles_failed_and_the_tick_refunds(drain_tasks):
    buyer, order, case = unknown_topup()
    supplier.settle(Delivery.objects.get(order=order).supplier_ref, "failed")

    tick(now=timezone.now() + timedelta(minutes=2))
    with freeze_time(timezone.now() + timedelta(minutes=2), tick=True):
        drain_tasks()

    case.refresh_from_db()
    assert case.stage == S.REFUNDED
    assert buyer_balance(buyer) == 50_00
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED


# The worker opens its own connection: on PostgreSQL it must see committed data.
@pytest.mark.django_db(transaction=True)
def test_the_supplier_settles_success_and_the_seller_is_asked(drain_tasks):
    seller = f.seller()
    buyer, order, case = unknown_topup(seller)
    supplier.settle(Delivery.objects.get(order=order).supplier_ref, "success")

    tick(now=timezone.now() + timedelta(minutes=2))
    with freeze_time(timezone.now() + timedelta(minutes=2), tick=True):
        drain_tasks()

    case.refresh_from_db()
    assert case.stage == S.AWAITING_SELLER
    assert case.holder == Holder.SELLER
    assert "充值成功" in case.why
    assert buyer_balance(buyer) == 0
    assert RefundCase.objects.filter(order=order, is_open=True).count() == 1


# --- who holds it, and on which clause --------------------------------------------------------------


def test_material_goes_back_to_the_agent_who_asked_for_it():
    buyer, _seller, _order, case = in_review(price=100_00)
    asking = agent()
    request_info(case_id=case.pk, agent=asking, note="请上传查重报告原件")

    case = add_material(case_id=case.pk, buyer=buyer, note="已上传", evidence=[screenshot("shortfall_proof")])

    assert (case.stage, case.holder, case.holder_user) == (S.PLATFORM_REVIEW, Holder.AGENT, asking)


def test_only_a_supervisor_may_claim_an_appeal():
    from kameng.refunds.services import claim

    buyer, _seller, _order, case = in_review(price=100_00)
    decide("reject", case_id=case.pk, agent=agent(), note="证据不足")
    appeal(case_id=case.pk, buyer=buyer, note="请复核")

    with pytest.raises(RefundError, match="客服主管"):
        claim(case_id=case.pk, agent=agent())
    case = claim(case_id=case.pk, agent=staff(Role.SUPERVISOR))
    assert case.holder_user.has_role(Role.SUPERVISOR)


def test_a_viewed_bad_key_is_settled_on_the_invalid_key_clause_not_the_never_viewed_one():
    buyer, _product, order = revealed_key_order(texts=["BAD-0001"], stock=["GOOD-0001"])

    case = claim_invalid(buyer, order, "full_refund")

    assert case.stage == S.REFUNDED
    assert case.decision_clause.startswith("11@")
    assert "第11条" in case.statement and "第4条" not in case.statement


def test_a_gateway_refund_not_confirmed_in_time_goes_to_finance_and_keeps_retrying():
    buyer = f.buyer()
    order = gateway_order(buyer, f.product(price=25_00, keys=2), pays=2)
    sandbox.sandbox_fail_next_refund(1000)  # the channel is down
    try:
        case = submit_refund(
            order=order, actor=buyer, reason="duplicate_payment", demand="full_refund", refund_to="original"
        )
        due = case.timers.get(kind="gateway_refund", done_at__isnull=True)

        assert fire_timer(timer_id=due.pk, now=due.due_at + timedelta(seconds=1)) == "to finance"
    finally:
        sandbox.sandbox_fail_next_refund(0)

    case.refresh_from_db()
    assert (case.stage, case.holder) == (S.REFUNDING, Holder.FINANCE)
    assert case.deadline_at > due.due_at
    assert Payout.objects.get(case=case).status == Payout.Status.PENDING  # the tick still retries it


def test_following_up_a_case_the_system_is_deciding_is_refused_with_its_time_and_spends_nothing():
    buyer, _order, case = unknown_topup()
    assert case.holder == Holder.SYSTEM

    with pytest.raises(RefundError, match="系统正在自动处理，最晚"):
        follow_up(case_id=case.pk, buyer=buyer)

    case.refresh_from_db()
    assert case.last_followup_at is None  # the 24-hour allowance is still there
    assert not Event.objects.filter(stream=case.stream, kind="follow_up").exists()
    assert selectors.buyer_actions(case, buyer)["follow_up"] is False


def test_agents_see_how_many_times_the_buyer_followed_up(client):
    buyer = f.buyer(balance=100_00)
    case = dispute(buyer, delivered_custom_order(buyer, price=100_00, seller=f.seller(platform=True)))
    follow_up(case_id=case.pk, buyer=buyer)
    with freeze_time(timezone.now() + timedelta(hours=24, seconds=1)):
        follow_up(case_id=case.pk, buyer=buyer)
    client.force_login(agent())

    page = client.get(f"/refunds/staff/{case.pk}/").content.decode()

    assert "买家催促次数：2" in page


def test_a_note_over_its_limit_is_refused_with_the_limit_never_cut(client):
    """Found in use: a 20,000-character note was kept as ~2,000 without a word."""
    buyer = f.buyer(balance=100_00)
    case = dispute(buyer, delivered_custom_order(buyer, price=100_00, seller=f.seller(platform=True)))

    with pytest.raises(RefundError, match="最多 5000 字，现在是 20000 字"):
        add_material(case_id=case.pk, buyer=buyer, note="长" * 20_000)

    kept = add_material(case_id=case.pk, buyer=buyer, note="长" * 5000)
    event = Event.objects.filter(stream=kept.stream, kind="material_added").get()
    assert len(event.data["note"]) == 5000  # all of it, nothing cut
    client.force_login(buyer)
    page = client.post(f"/refunds/{case.pk}/act/", {"action": "material", "note": "长" * 20_000}, follow=True)
    assert "最多 5000 字" in page.content.decode()
