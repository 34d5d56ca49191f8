"""The scam filter and masking where messages reach people (issue 16, items 1–3): a seller's answer
that asks for a deposit and a private WeChat is held and the buyer is warned; a buyer about to send
a code is asked first; card numbers are masked for everyone but their author; agents' messages
carry a verified mark."""

import pytest

from kameng.accounts.models import Role
from kameng.refunds.services import seller_refuse, submit_refund
from kameng.safety.models import ScamHit
from kameng.support import live, services
from kameng.support.models import Message
from tests import factories as f
from tests.refunds.helpers import delivered_custom_order, evidence_for, screenshot

pytestmark = pytest.mark.django_db
SCAM = "退款要先交保证金200元，加我薇信 kefu8899 处理，马上到账"


@pytest.fixture
def case():
    buyer = f.buyer("张三", balance=500_00)
    order = delivered_custom_order(buyer, price=60_00)
    return submit_refund(
        order=order,
        actor=buyer,
        reason="not_as_described",
        demand="full_refund",
        description="没有按约定完成",
        evidence=evidence_for("not_as_described", order.kind),
    )


def test_a_sellers_scam_answer_is_held_and_the_buyer_is_warned(client, case):
    seller_refuse(case_id=case.pk, seller_user=case.seller.owner, note=SCAM, evidence=[screenshot("proof")])

    client.force_login(case.buyer)
    page = client.get(f"/refunds/{case.pk}/").content.decode()
    assert "kefu8899" not in page and "保证金200" not in page
    assert "已被拦截，等待平台审核" in page
    assert ScamHit.objects.filter(verdict="hold", sender="seller").exists()

    client.force_login(f.staff(Role.AGENT))
    staff_page = client.get(f"/refunds/staff/{case.pk}/").content.decode()
    assert "被拦截的卖家留言" in staff_page and "kefu8899" in staff_page


def test_an_honest_seller_answer_reaches_the_buyer(client, case):
    seller_refuse(
        case_id=case.pk,
        seller_user=case.seller.owner,
        note="已按约定交付，查重报告见附件",
        evidence=[screenshot("p")],
    )
    client.force_login(case.buyer)
    assert "已按约定交付，查重报告见附件" in client.get(f"/refunds/{case.pk}/").content.decode()


def test_a_buyer_about_to_send_a_code_is_asked_first(client):
    buyer = f.buyer("李雷")
    conversation = services.conversation_for(buyer=buyer)
    client.force_login(buyer)
    url = f"/support/c/{conversation.pk}/"
    page = client.post(url, {"body": "客服你好，验证码是 884213", "client_id": "c1"}).content.decode()
    assert "卡盟客服绝不会索要这些信息" in page
    assert 'id="confirm-send" hidden' not in page and "验证码是 884213" in page  # the draft stays
    assert not Message.objects.filter(author=buyer).exists()

    client.post(url, {"body": "客服你好，验证码是 884213", "client_id": "c1", "confirm": "1"})
    assert Message.objects.filter(author=buyer).count() == 1
    assert ScamHit.objects.filter(sender="buyer", verdict="warn").exists()

    api = f"/api/support/conversations/{conversation.pk}/messages"
    refused = client.post(
        api, {"body": "我的卡号 6222 0212 3456 7894", "client_id": "a1"}, content_type="application/json"
    )
    assert refused.status_code == 400 and "仍要发送" in refused.json()["detail"]
    sent = client.post(
        api,
        {"body": "我的卡号 6222 0212 3456 7894", "client_id": "a1", "confirm": True},
        content_type="application/json",
    )
    assert sent.status_code == 201


def test_secrets_are_masked_for_everyone_but_their_author(client):
    buyer = f.buyer("韩梅梅")
    agent = f.staff(Role.AGENT)
    conversation = services.conversation_for(buyer=buyer)
    message = services.post_message(
        conversation_id=conversation.pk, author=buyer, body="退到这张卡 6222 0212 3456 7894", client_id="m1"
    )

    client.force_login(buyer)
    assert "6222 0212 3456 7894" in client.get(f"/support/c/{conversation.pk}/").content.decode()

    client.force_login(agent)
    staff_page = client.get(f"/support/staff/c/{conversation.pk}/").content.decode()
    assert "6222 0212 3456 7894" not in staff_page and "************7894" in staff_page
    listed = client.get(f"/api/support/conversations/{conversation.pk}/messages").json()
    assert [m["text"] for m in listed if m["id"] == message.pk] == ["退到这张卡 ************7894"]
    # What the socket sends each reader.
    event = live.message_event(message)
    assert live.message_frame(event, viewer_id=agent.pk)["text"] == "退到这张卡 ************7894"
    assert live.message_frame(event, viewer_id=buyer.pk)["text"] == "退到这张卡 6222 0212 3456 7894"


def test_agents_messages_carry_a_verified_mark(client):
    buyer = f.buyer("王五")
    agent = f.staff(Role.AGENT)
    agent.agent_no = "1001"
    agent.save()
    conversation = services.conversation_for(buyer=buyer)
    services.post_message(conversation_id=conversation.pk, author=agent, body="您好，我是客服 1001")
    client.force_login(buyer)
    page = client.get(f"/support/c/{conversation.pk}/").content.decode()
    assert 'class="badge ok verified" href="/verify/?value=1001"' in page


def test_a_scam_delivery_note_is_held_on_the_buyers_order_page(client):
    from kameng.orders.services import deliver_custom_service, place_order

    buyer = f.buyer("赵六", balance=100_00)
    seller = f.seller("代练工作室")
    product = f.product(kind="custom_service", price=50_00, of=seller)
    order = place_order(buyer=buyer, product=product)
    deliver_custom_service(order_id=order.pk, seller_user=seller.owner, note=SCAM)

    client.force_login(buyer)
    page = client.get(f"/orders/{order.no}/").content.decode()
    assert "kefu8899" not in page and 'id="note-held"' in page
    assert ScamHit.objects.filter(sender="seller", verdict="hold").exists()
    client.force_login(seller.owner)
    assert "kefu8899" in client.get(f"/orders/{order.no}/seller/").content.decode()
