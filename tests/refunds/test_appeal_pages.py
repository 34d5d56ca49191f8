"""Item 8 on the pages: 认领 before the decision form, the confirmation step, the buyer's appeal of
a partial refund and the seller's contest."""

import pytest
from django.urls import reverse

from kameng.accounts.models import Role
from kameng.refunds.models import RefundCase, Stage
from kameng.wallet.services import buyer_balance
from tests import factories as f

from .helpers import agent, decide
from .test_flows import in_review
from .test_pages import login, text

pytestmark = pytest.mark.django_db


def test_the_staff_page_offers_claim_first_then_the_decision(client):
    _buyer, _seller, _order, case = in_review(price=100_00)
    url = reverse("refunds:staff_detail", args=[case.pk])
    login(client, f.staff(Role.AGENT, agent_no="A100"))

    page = client.get(url).content.decode()
    assert 'id="claim"' in page and 'id="decide"' not in page
    assert "认领后才能作出决定" in text(client.get(url))
    refused = client.post(url, {"action": "decide", "decision": "approve", "note": "同意"})
    assert "请先认领" in text(client.get(refused["Location"]))

    client.post(url, {"action": "claim"})
    page = client.get(url).content.decode()
    assert 'id="claim"' not in page and 'id="decide"' in page


def test_a_changed_amount_on_the_confirmation_is_refused_and_pays_nothing(client):
    buyer, _seller, _order, case = in_review(price=100_00)
    url = reverse("refunds:staff_detail", args=[case.pk])
    login(client, f.staff(Role.AGENT))
    client.post(url, {"action": "claim"})

    tampered = client.post(
        url, {"action": "decide", "decision": "approve", "note": "同意", "confirmed_amount": "1"}
    )

    assert "退款金额已变为 ¥100.00" in text(client.get(tampered["Location"]))
    assert buyer_balance(buyer) == 0
    whole = client.post(url, {"action": "decide", "decision": "partial", "amount": "100", "note": "全退"})
    assert "小于可退全额 ¥100.00" in text(client.get(whole["Location"]))  # refused before any confirmation
    assert buyer_balance(buyer) == 0


def test_the_buyer_appeals_a_partial_refund_from_the_case_page(client):
    buyer, _seller, _order, case = in_review(price=300_00)
    decide("partial", case_id=case.pk, agent=agent(), amount=120_00, note="部分未达标")
    login(client, buyer)
    url = reverse("refunds:detail", args=[case.pk])
    assert 'id="appeal"' in client.get(url).content.decode()

    client.post(reverse("refunds:buyer_action", args=[case.pk]), {"action": "appeal", "note": "请全退"})

    case.refresh_from_db()
    assert case.stage == Stage.APPEALED
    body = text(client.get(url))
    assert "申诉中" in body and "客服主管" in body


def test_the_seller_contests_a_staff_approval_and_the_supervisor_sees_it(client):
    _buyer, seller, _order, case = in_review(price=100_00)
    decide("approve", case_id=case.pk, agent=agent(), note="同意")
    login(client, seller.owner)
    url = reverse("refunds:seller_detail", args=[case.pk])
    assert 'id="contest"' in client.get(url).content.decode()

    client.post(url, {"action": "contest", "note": "报告达标"})

    case = RefundCase.objects.get(pk=case.pk)
    assert case.stage == Stage.APPEALED and case.appealed_by_id == seller.owner_id
    assert 'id="contest"' not in client.get(url).content.decode()
    login(client, f.staff(Role.SUPERVISOR))
    staff_url = reverse("refunds:staff_detail", args=[case.pk])
    client.post(staff_url, {"action": "claim"})
    page = client.get(staff_url).content.decode()
    assert 'value="for_seller"' in page and "卖家对原处理结果提出申诉" in page
