"""The refund case page shows the customer-service messages about its order, interleaved in time
with the case's events, with the channel each came by (issue 15, item 10): the buyer reads the
public ones, staff read the internal notes too, the seller and other buyers read none."""

from datetime import timedelta

import pytest
from django.utils import timezone
from freezegun import freeze_time

from kameng.accounts.models import Role
from kameng.refunds import case_hooks
from kameng.refunds.selectors import timeline
from kameng.refunds.services import submit_refund
from kameng.support import commitments, services
from kameng.support.timeline import case_messages
from tests import factories as f
from tests.refunds.helpers import delivered_custom_order, evidence_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def story():
    buyer, stranger = f.buyer(balance=100_00), f.buyer(balance=100_00)
    agent = f.staff(Role.AGENT, agent_no="3003")
    seller = f.seller()
    order = delivered_custom_order(buyer, price=100_00, seller=seller)
    conversation = services.conversation_for(buyer=buyer, order=order)
    start = timezone.now()
    with freeze_time(start - timedelta(hours=2)):
        services.post_message(conversation_id=conversation.pk, author=buyer, body="代练没有完成，怎么办？")
    with freeze_time(start - timedelta(hours=1)):
        case = submit_refund(
            order=order,
            actor=buyer,
            reason="not_as_described",
            demand="full_refund",
            evidence=evidence_for("not_as_described", "custom_service"),
        )
    services.claim(conversation_id=conversation.pk, agent=agent)
    services.post_message(conversation_id=conversation.pk, author=agent, body="已为您催促卖家处理")
    services.post_message(conversation_id=conversation.pk, author=agent, body="卖家电话打不通", internal=True)
    commitments.log_call(
        conversation_id=conversation.pk,
        agent=agent,
        direction="in",
        number="13800000000",
        summary="买家来电催进度",
    )
    # Another buyer's conversation about their own order: never on this case.
    other_order = delivered_custom_order(stranger, price=100_00, seller=seller)
    other = services.conversation_for(buyer=stranger, order=other_order)
    services.post_message(conversation_id=other.pk, author=stranger, body="别人的咨询")
    return {"buyer": buyer, "stranger": stranger, "agent": agent, "seller": seller, "case": case}


def test_the_buyer_reads_public_messages_in_time_order_and_never_the_internal_note(client, story):
    client.force_login(story["buyer"])
    page = client.get(f"/refunds/{story['case'].pk}/").content.decode()
    history = page[page.index('id="timeline"') :]

    assert (
        "代练没有完成，怎么办？" in history
        and "已为您催促卖家处理" in history
        and "买家来电催进度" in history
    )
    assert "卖家电话打不通" not in page and "内部备注" not in history
    assert "别人的咨询" not in page
    # The question came before the request was filed; the answer after it.
    assert history.index("代练没有完成") < history.index("提交") < history.index("已为您催促卖家处理")
    assert "在线客服" in history and "电话" in history  # channel labels
    assert "客服 3003" in history


def test_staff_read_the_internal_note_marked_as_such(client, story):
    client.force_login(story["agent"])
    page = client.get(f"/refunds/staff/{story['case'].pk}/").content.decode()
    history = page[page.index('id="timeline"') :]

    assert "卖家电话打不通" in history and "内部备注" in history
    assert "代练没有完成，怎么办？" in history and "别人的咨询" not in page


def test_the_seller_and_another_buyer_read_none_of_it(client, story):
    client.force_login(story["seller"].owner)
    page = client.get(f"/refunds/seller/{story['case'].pk}/").content.decode()
    assert "代练没有完成" not in page and "卖家电话打不通" not in page and "已为您催促" not in page

    client.force_login(story["stranger"])
    assert client.get(f"/refunds/{story['case'].pk}/").status_code == 404


def test_without_the_support_hook_the_timeline_is_the_case_events(story):
    case = story["case"]
    with_messages = timeline(case, viewer_is_buyer=True, messages_for="buyer")
    case_hooks.provide_case_messages(lambda case, audience: [])
    try:
        bare = timeline(case, viewer_is_buyer=True, messages_for="buyer")
    finally:
        case_hooks.provide_case_messages(case_messages)

    assert [t for t in with_messages if t["kind"] != "message"] == bare
    assert all(t["kind"] != "message" for t in bare)
