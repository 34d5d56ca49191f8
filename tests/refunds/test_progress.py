"""The step bar shows the real stage (issue 14, item 9): for a case in every stage of the state
machine, the buyer's page lights the step of that stage, and its badge, holder line and countdown
say the same thing."""

import html
import re

import pytest
from django.urls import reverse

from kameng.orders.services import place_order, reveal_card_keys
from kameng.refunds.models import RefundCase, Stage
from kameng.refunds.services import (
    appeal,
    cancel,
    request_info,
    seller_offer,
    submit_refund,
)
from tests import factories as f

from .helpers import agent, decide, delivered_custom_order, gateway_order
from .test_flows import dispute, in_review
from .test_pages import login

pytestmark = pytest.mark.django_db

S = Stage


def shown(client, case) -> dict:
    """What the buyer's page says: badge, holder line, the steps (and which is lit), countdown."""
    login(client, case.buyer)
    page = client.get(reverse("refunds:detail", args=[case.pk])).content.decode()
    steps = re.findall(r'<li class="(\w+)" data-step="(\w+)"(?: aria-current="step")?>([^<]*)</li>', page)
    holder = re.search(r'id="holder">[^<]*<strong>([^<]*)</strong>', page)
    countdown = re.search(
        r'<p class="countdown-line">(.*?)<span class="countdown" id="countdown"', page, re.S
    )
    return {
        "badge": html.unescape(re.search(r'id="stage-badge">([^<]*)<', page).group(1)),
        "holder": html.unescape(holder.group(1)) if holder else None,
        "lit": [html.unescape(label) for state, _key, label in steps if state == "current"],
        "last": (steps[-1][0], html.unescape(steps[-1][2])),
        "countdown_holder": html.unescape(countdown.group(1)).strip() if countdown else None,
    }


def custom_case(**kwargs):
    return in_review(**kwargs)[3]


def written(stage: str):
    """The stages a case passes in the same transaction that enters them (submitted, approved,
    partially approved) cannot be reached and left standing by the services: the column is set."""
    case = custom_case(platform=True)
    RefundCase.objects.filter(pk=case.pk).update(
        stage=stage, holder="system", deadline_at=None, deadline_action=""
    )
    return RefundCase.objects.get(pk=case.pk)


def verifying():
    buyer = f.buyer(balance=10_00)
    order = place_order(
        buyer=buyer,
        product=f.product(kind="direct_topup", price=10_00, of=f.seller(platform=True)),
        target_account="unknown-1",
    )
    return submit_refund(order=order, actor=buyer, reason="not_received", demand="full_refund")


def awaiting_seller():
    buyer = f.buyer(balance=100_00)
    return dispute(buyer, delivered_custom_order(buyer, price=100_00, seller=f.seller()))


def with_offer():
    case = awaiting_seller()
    return seller_offer(case_id=case.pk, seller_user=case.seller.owner, offer="partial", amount=30_00)


def needs_info():
    case = custom_case()
    return request_info(case_id=case.pk, agent=agent(), note="请补充报告")


def finance_review():
    return decide("approve", case_id=custom_case(price=800_00).pk, agent=agent(), note="同意")


def refunding():
    buyer = f.buyer()
    order = gateway_order(buyer, f.product(price=25_00, keys=2), pays=2)
    return submit_refund(
        order=order, actor=buyer, reason="duplicate_payment", demand="full_refund", refund_to="original"
    )


def refunded():
    return decide("approve", case_id=custom_case().pk, agent=agent(), note="同意")


def replacement():
    buyer = f.buyer(balance=50_00)
    order = place_order(buyer=buyer, product=f.product(price=50_00, keys=3, of=f.seller(platform=True)))
    reveal_card_keys(order_id=order.pk, buyer=buyer)  # opened: nothing the system decides alone
    case = submit_refund(order=order, actor=buyer, reason="other", demand="full_refund", description="不能用")
    return decide("replace", case_id=case.pk, agent=agent(), note="补发")


def rejected():
    return decide("reject", case_id=custom_case().pk, agent=agent(), note="证据不足")


def appealed():
    case = rejected()
    return appeal(case_id=case.pk, buyer=case.buyer, note="请复核")


def cancelled():
    case = awaiting_seller()
    return cancel(case_id=case.pk, buyer=case.buyer)


# stage → (how to get there, badge, lit step, holder line (None: no holder line), countdown?)
EVERY_STAGE = {
    S.SUBMITTED: (lambda: written(S.SUBMITTED), "已提交", "申请", "系统", False),
    S.VERIFYING: (verifying, "系统核验中", "核验 › 等待供应商答复", "系统", True),
    S.AWAITING_SELLER: (awaiting_seller, "等待卖家处理", "卖家处理", "卖家", True),
    S.PLATFORM_REVIEW: (custom_case, "平台审核中", "平台审核", "平台客服", True),
    S.NEEDS_INFO: (needs_info, "待补充材料", "平台审核 › 等待补充材料", "您（买家）", True),
    S.APPROVED: (lambda: written(S.APPROVED), "已同意退款", "退款中", "系统", False),
    S.PARTIALLY_APPROVED: (lambda: written(S.PARTIALLY_APPROVED), "已同意部分退款", "退款中", "系统", False),
    S.FINANCE_REVIEW: (finance_review, "财务复核中", "财务复核", "财务", True),
    S.REFUNDING: (refunding, "退款中", "退款中 › 原路退回中", "系统", True),
    S.REFUNDED: (refunded, "已退款", None, None, False),
    S.REPLACEMENT: (replacement, "已补发", None, "无需处理", False),
    S.REJECTED: (rejected, "已驳回", "已驳回 › 可申诉", "您（买家）", True),
    S.APPEALED: (appealed, "申诉中", "申诉复核", "客服主管", True),
    S.CANCELLED: (cancelled, "已撤销", None, "无需处理", False),
}


def test_the_table_covers_every_stage():
    assert set(EVERY_STAGE) == set(Stage.values)


@pytest.mark.parametrize("stage", list(EVERY_STAGE))
def test_badge_holder_lit_step_and_countdown_agree_in_every_stage(client, stage):
    build, badge, lit, holder, counting = EVERY_STAGE[stage]
    case = build()
    case = RefundCase.objects.get(pk=case.pk)
    assert case.stage == stage

    seen = shown(client, case)

    assert seen["badge"] == badge
    if lit is None:  # the case has ended: every step done, the last one says how
        assert seen["lit"] == [] and seen["last"] == ("done", badge)
    else:
        assert seen["lit"] == [lit]
    if holder is None:
        assert seen["holder"] is None
    else:
        assert holder in seen["holder"]
    assert (seen["countdown_holder"] is not None) == counting
    if counting:  # the countdown names the same holder as the holder line
        assert seen["countdown_holder"].startswith(seen["holder"])


def test_an_offer_out_to_the_buyer_is_the_buyers_turn_everywhere(client):
    """Case #13: the badge said 等待卖家处理 while the holder line said 您（买家）."""
    case = with_offer()

    seen = shown(client, case)

    assert seen["badge"] == "待您确认卖家方案"
    assert seen["holder"] == "您（买家）"
    assert seen["lit"] == ["卖家处理 › 卖家方案待买家确认"]
    assert seen["countdown_holder"].startswith("您（买家）")


def test_finance_review_lights_finance_not_refunding(client):
    case = finance_review()
    seen = shown(client, case)
    assert seen["lit"] == ["财务复核"] and "退款中" not in seen["lit"]


def test_a_transfer_and_a_seller_contest_show_as_labelled_sub_steps(client):
    from kameng.refunds.services import claim, contest, transfer

    case = custom_case()
    who = agent()
    claim(case_id=case.pk, agent=who)
    transfer(case_id=case.pk, agent=who, to="tech", reason="需核对卡密批次")
    assert shown(client, case)["lit"] == ["平台审核 › 技术核验"]

    case = decide("approve", case_id=custom_case().pk, agent=agent(), note="同意")
    contest(case_id=case.pk, seller_user=case.seller.owner, note="已交付")
    seen = shown(client, case)
    assert seen["lit"] == ["申诉复核 › 卖家申诉"] and "客服主管" in seen["holder"]


def test_the_api_case_output_says_what_the_page_says(client):
    from tests.refunds.test_api import as_user

    case = needs_info()
    answer = as_user(client, case.buyer).get(f"/refunds/{case.pk}").json()
    page = shown(client, case)

    assert answer["progress"]["badge"] == page["badge"]
    assert answer["progress"]["holder"] == "买家"  # the API speaks of the buyer in the third person
    assert answer["progress"]["step"] == page["lit"][0]
    assert answer["progress"]["countdown"]["deadline"]
    assert [s["label"] for s in answer["path"] if s["state"] == "current"] == page["lit"]
