"""Each path cites the clause that actually applies, and each person appears in their role
(found in use: card-key and top-up cases sent to review cited 第5条（定制服务）, and the finance
reviewer appeared as "客服 3001")."""

import pytest

from kameng.accounts.models import Role
from kameng.evidence.models import Event
from kameng.orders.services import deliver_custom_service, place_order, reveal_card_keys
from kameng.refunds import selectors
from kameng.refunds.models import Stage
from kameng.refunds.services import finance_decide, seller_refuse, submit_refund
from tests import factories as f

from .helpers import decide, screenshot

pytestmark = pytest.mark.django_db


def review_clause(case) -> str:
    moved = Event.objects.filter(stream=case.stream, kind="stage_changed", data__to=Stage.PLATFORM_REVIEW)
    return moved.get().clause


def platform_product(**kw):
    return f.product(of=f.seller(platform=True), **kw)


def test_a_revealed_card_key_sent_to_review_cites_the_not_received_clause_not_custom_services():
    buyer = f.buyer(balance=10_00)
    order = place_order(buyer=buyer, product=platform_product(keys=1))
    reveal_card_keys(order_id=order.pk, buyer=buyer)

    case = submit_refund(order=order, actor=buyer, reason="other", demand="full_refund", description="不想要")

    assert case.stage == Stage.PLATFORM_REVIEW
    assert review_clause(case) == "3@v1"


def test_a_delivered_topup_sent_to_review_cites_clause_3():
    buyer = f.buyer(balance=10_00)
    order = place_order(
        buyer=buyer, product=platform_product(kind="direct_topup"), target_account="13800000000"
    )
    order.refresh_from_db()
    assert order.status == "delivered"

    case = submit_refund(order=order, actor=buyer, reason="other", demand="full_refund", description="没到账")

    assert review_clause(case) == "3@v1"


def test_a_custom_service_in_review_cites_clause_5():
    buyer = f.buyer(balance=10_00)
    shop = f.seller()
    order = place_order(buyer=buyer, product=f.product(kind="custom_service", of=shop))
    deliver_custom_service(order_id=order.pk, seller_user=shop.owner, note="已完成")
    case = submit_refund(order=order, actor=buyer, reason="other", demand="full_refund", description="没做完")

    case = seller_refuse(
        case_id=case.pk, seller_user=shop.owner, note="已按要求完成", evidence=[screenshot("chat")]
    )

    assert review_clause(case) == "5@v1"


def test_the_finance_reviewer_appears_as_finance_on_the_timeline():
    buyer = f.buyer(balance=600_00)
    order = place_order(buyer=buyer, product=platform_product(keys=1, price=600_00))
    reveal_card_keys(order_id=order.pk, buyer=buyer)
    case = submit_refund(order=order, actor=buyer, reason="other", demand="full_refund", description="不想要")
    case = decide("approve", case_id=case.pk, agent=f.staff(Role.AGENT, agent_no="3000"), note="同意")
    finance_decide(
        case_id=case.pk, user=f.staff(Role.FINANCE, agent_no="3001"), approve=True, note="核对无误"
    )

    actors = {item["kind"]: item["actor"] for item in selectors.timeline(case, viewer_is_buyer=True)}

    assert actors["finance_decision"] == "财务 3001"
    assert actors["decision"] == "客服 3000"
