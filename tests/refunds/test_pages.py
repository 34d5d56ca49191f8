"""The refund pages, driven through the Django test client: each test is one person's story."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from kameng.accounts.models import Role
from kameng.orders.models import OrderStatus
from kameng.orders.services import place_order, start_order_gateway_payment
from kameng.payments.gateway import get_gateway
from kameng.payments.services import sync_payment
from kameng.refunds.models import RefundCase, Stage
from kameng.wallet.services import buyer_balance
from tests import factories as f

pytestmark = pytest.mark.django_db

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def png(name="shot.png"):
    return SimpleUploadedFile(name, PNG, content_type="image/png")


def pdf(name="report.pdf"):
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


# --- builders (also used by the browser journeys) ---------------------------------------------------


def undelivered_card_order(buyer, *, price=20_00):
    """A card-key order that was paid but never got a key: the last key went to someone else first."""
    product = f.product(price=price, keys=1)
    order = place_order(buyer=buyer, product=product, pay_method="gateway")
    place_order(buyer=f.buyer(balance=price), product=product)
    payment, _url = start_order_gateway_payment(order=order, user=buyer)
    get_gateway().pay(payment.out_trade_no)
    sync_payment(payment)
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    return order


def custom_service_order(buyer, *, price=100_00):
    """A custom service (代练/查重) from a third-party seller, paid from the balance, not yet delivered."""
    product = f.product(kind="custom_service", price=price, promise="查重率低于15%")
    f.fund(buyer, price)
    return place_order(buyer=buyer, product=product)


def login(client, user):
    client.force_login(user)
    return client


def submit(client, order, **data):
    payload = {"reason": "not_received", "demand": "full_refund", "refund_to": "balance", **data}
    return client.post(reverse("refunds:new", args=[order.no]), payload)


def decide_on_page(client, url, **data):
    """A paying decision as staff make it: the form shows the amount and where it goes first; the
    button on that confirmation page decides, carrying the amount shown."""
    page = client.post(url, {"action": "decide", **data})
    assert page.status_code == 200, "a paying decision shows its confirmation first"
    shown = re.search(r'name="confirmed_amount" value="(\d+)"', page.content.decode()).group(1)
    return page, client.post(url, {"action": "decide", **data, "confirmed_amount": shown})


def text(response) -> str:
    """The page's visible text, whitespace squeezed, so assertions read like what a person sees."""
    return text_of(response.content.decode())


def text_of(html: str) -> str:
    html = re.sub(r"<script.*?</script>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# --- the request form ---------------------------------------------------------------------------------


def test_buyer_sees_the_checklist_for_the_chosen_reason_before_submitting(client):
    buyer = f.buyer(balance=50_00)
    order = place_order(buyer=buyer, product=f.product(price=30_00, keys=2))
    login(client, buyer)

    page = client.get(reverse("refunds:new", args=[order.no]))
    assert page.status_code == 200
    assert "兑换失败的截图" not in text(page)
    assert order.no in text(page)

    page = client.get(reverse("refunds:new", args=[order.no]) + "?reason=invalid_key")

    body = text(page)
    assert "兑换失败的截图" in body
    assert 'name="evidence_redeem_error"' in page.content.decode()
    assert "我做了什么" in body and order.no in body  # the draft 事实+依据 statement
    assert "¥30.00" in body


def test_the_no_js_preview_button_refreshes_the_checklist_without_submitting(client):
    buyer = f.buyer(balance=50_00)
    order = place_order(buyer=buyer, product=f.product(price=30_00, keys=2))
    login(client, buyer)

    page = client.post(
        reverse("refunds:new", args=[order.no]),
        {"reason": "invalid_key", "demand": "full_refund", "description": "提示已使用", "preview": "1"},
    )

    assert page.status_code == 200
    assert "兑换失败的截图" in text(page) and "提示已使用" in text(page)
    assert not RefundCase.objects.filter(order=order).exists()


def test_an_edited_statement_is_kept_and_an_untouched_draft_is_rewritten_by_the_engine(client):
    buyer = f.buyer()
    mine, untouched = custom_service_order(buyer), custom_service_order(buyer)
    login(client, buyer)

    submit(client, mine, reason="other", statement="我自己写的陈述", draft_shown="系统草稿")
    submit(client, untouched, reason="other", statement="系统草稿\r\n", draft_shown="系统草稿")

    assert RefundCase.objects.get(order=mine).statement == "我自己写的陈述"
    assert "我做了什么" in RefundCase.objects.get(order=untouched).statement


def test_the_order_page_offers_a_refund_then_links_to_the_open_case(client):
    buyer = f.buyer()
    order = custom_service_order(buyer)
    login(client, buyer)
    page = client.get(reverse("orders:detail", args=[order.no]))
    assert reverse("refunds:new", args=[order.no]) in page.content.decode()

    submit(client, order, reason="other")
    case = RefundCase.objects.get(order=order)
    page = client.get(reverse("orders:detail", args=[order.no]))
    assert reverse("refunds:detail", args=[case.pk]) in page.content.decode()
    assert reverse("refunds:new", args=[order.no]) not in page.content.decode()


def test_incomplete_submission_is_refused_naming_the_missing_item_and_keeps_what_was_typed(client):
    buyer = f.buyer(balance=50_00)
    order = place_order(buyer=buyer, product=f.product(price=30_00, keys=2))
    login(client, buyer)

    response = submit(client, order, reason="invalid_key", description="充值时提示卡密已使用")

    assert response.status_code == 400
    body = text(response)
    assert "还缺少以下材料" in body and "兑换失败的截图" in body
    assert "充值时提示卡密已使用" in body
    assert not RefundCase.objects.filter(order=order).exists()


def test_undelivered_order_is_refunded_on_submit_and_the_page_says_so(client):
    buyer = f.buyer()
    order = undelivered_card_order(buyer)
    login(client, buyer)

    response = submit(client, order)

    case = RefundCase.objects.get(order=order)
    assert response.status_code == 302 and response["Location"] == reverse("refunds:detail", args=[case.pk])
    body = text(client.get(response["Location"]))
    assert "已退款 ¥20.00" in body
    assert "第3条" in body and "未发货/未到账" in body  # the clause, by its title
    assert "平台余额" in body
    assert buyer_balance(buyer) == 20_00


def test_a_second_submit_is_refused_with_a_link_to_the_open_case(client):
    buyer = f.buyer()
    order = custom_service_order(buyer)
    login(client, buyer)
    submit(client, order, reason="other")
    case = RefundCase.objects.get(order=order)

    again = submit(client, order, reason="other")

    assert again.status_code == 400
    assert "已有一个进行中的退款申请" in text(again)
    assert reverse("refunds:detail", args=[case.pk]) in again.content.decode()
    assert RefundCase.objects.filter(order=order).count() == 1


def test_a_fake_png_is_refused_with_a_message(client):
    buyer = f.buyer(balance=50_00)
    order = place_order(buyer=buyer, product=f.product(price=30_00, keys=2))
    login(client, buyer)
    fake = SimpleUploadedFile("shot.png", b"this is not an image at all", content_type="image/png")

    response = submit(client, order, reason="invalid_key", evidence_redeem_error=fake)

    assert response.status_code == 400
    body = text(response)
    assert "shot.png" in body and "按内容识别" in body
    assert "请重新选择" in body  # files are not kept across a refused submission
    assert not RefundCase.objects.filter(order=order).exists()


@pytest.mark.parametrize("amount", ["abc", "1e999", "NaN", "-5", "0", "12.345", ""])
def test_a_bad_partial_amount_is_refused_without_a_500(client, amount):
    buyer = f.buyer()
    order = custom_service_order(buyer)
    login(client, buyer)

    response = submit(client, order, reason="other", demand="partial_refund", amount=amount)

    assert response.status_code == 400
    assert "金额" in text(response)
    assert not RefundCase.objects.filter(order=order).exists()


def test_a_partial_amount_in_yuan_becomes_cents_exactly(client):
    buyer = f.buyer()
    order = custom_service_order(buyer)
    login(client, buyer)

    submit(client, order, reason="other", demand="partial_refund", amount="¥33.30")

    assert RefundCase.objects.get(order=order).amount_requested == 33_30


def test_only_the_buyer_or_an_agent_on_their_behalf_may_open_the_form(client):
    buyer, stranger = f.buyer(), f.buyer()
    agent = f.staff(Role.AGENT, agent_no="A301")
    order = custom_service_order(buyer)
    url = reverse("refunds:new", args=[order.no])

    assert login(client, stranger).get(url).status_code == 404
    assert client.get(url + "?on_behalf=1").status_code == 404
    assert login(client, agent).get(url).status_code == 404  # an agent says on whose behalf
    assert client.get(url + "?on_behalf=1").status_code == 200

    response = client.post(
        url + "?on_behalf=1",
        {
            "reason": "other",
            "demand": "full_refund",
            "refund_to": "balance",
            "channel": "phone",
            "on_behalf": "1",
        },
    )

    case = RefundCase.objects.get(order=order)
    assert response["Location"] == reverse("refunds:staff_detail", args=[case.pk])
    assert case.channel == "phone" and case.created_by == agent and case.buyer == buyer
    assert "客服 A301" in text(login(client, buyer).get(reverse("refunds:detail", args=[case.pk])))


# --- the whole dispute, page by page -------------------------------------------------------------------


def test_custom_service_dispute_from_request_to_partial_refund(client):
    buyer = f.buyer()
    order = custom_service_order(buyer, price=100_00)
    seller_user = order.seller.owner
    agent = f.staff(Role.AGENT, agent_no="A007")
    case_url = None

    # The buyer sends both pieces of evidence in one go: the case goes to the seller with a deadline.
    login(client, buyer)
    response = submit(
        client,
        order,
        reason="not_as_described",
        evidence_seller_promise=png("promise.png"),
        evidence_shortfall_proof=pdf("report.pdf"),
        description="查重率 32%",
    )
    case = RefundCase.objects.get(order=order)
    case_url = reverse("refunds:detail", args=[case.pk])
    assert response["Location"] == case_url
    body = text(client.get(case_url))
    assert "等待卖家处理" in body and order.seller.name in body
    assert "卖家逾期未处理，系统将自动同意退款" in body
    assert case.stage == Stage.AWAITING_SELLER

    # The seller reads the statement and refuses with evidence: platform review, with holder and deadline.
    login(client, seller_user)
    assert (
        reverse("refunds:seller_detail", args=[case.pk])
        in client.get(reverse("refunds:seller_cases")).content.decode()
    )
    page = text(client.get(reverse("refunds:seller_detail", args=[case.pk])))
    assert page.index("事实与依据") < page.index("核验事实")
    missing = client.post(
        reverse("refunds:seller_detail", args=[case.pk]), {"action": "refuse", "note": "已达标"}
    )
    assert "拒绝退款需要填写理由并上传证据" in text(client.get(missing["Location"]))
    client.post(
        reverse("refunds:seller_detail", args=[case.pk]),
        {"action": "refuse", "note": "交付时查重率 12%", "files": [png("delivery.png")]},
    )
    case.refresh_from_db()
    assert case.stage == Stage.PLATFORM_REVIEW

    login(client, buyer)
    body = text(client.get(case_url))
    assert "平台审核中" in body
    assert "当前处理方： 平台客服" in body
    assert "处理时限：" in body and case.deadline_at is not None
    assert "卖家拒绝退款" in body  # the timeline says what happened

    # The agent claims it and asks for more material: the buyer holds it, with a countdown.
    login(client, agent)
    queue = text(client.get(reverse("refunds:staff_queue")))
    assert f"#{case.pk}" in queue
    staff_url = reverse("refunds:staff_detail", args=[case.pk])
    client.post(staff_url, {"action": "claim"})
    client.post(staff_url, {"action": "request_info", "note": "请上传完整的查重报告首页"})
    case.refresh_from_db()
    assert case.stage == Stage.NEEDS_INFO

    login(client, buyer)
    page = client.get(case_url)
    body = text(page)
    assert "待补充材料" in body
    assert "当前处理方： 您（买家）" in body
    assert 'class="countdown"' in page.content.decode() and "补充材料" in body
    assert "请上传完整的查重报告首页" in body
    assert "客服 A007" in body

    # The buyer adds it: back in review.
    client.post(
        reverse("refunds:buyer_action", args=[case.pk]),
        {"action": "material", "note": "首页已补", "files": [pdf("page1.pdf")]},
    )
    case.refresh_from_db()
    assert case.stage == Stage.PLATFORM_REVIEW
    assert "平台审核中" in text(client.get(case_url))

    # The agent approves part of it (in 元): refunded, with the partial amount.
    login(client, agent)
    bad = client.post(
        staff_url,
        {"action": "decide", "decision": "partial", "amount": "三十", "clause": "5", "note": "部分达标"},
    )
    assert "不是有效的数字" in text(client.get(bad["Location"]))
    confirm, _done = decide_on_page(
        client, staff_url, decision="partial", amount="30", clause="5", note="部分章节达标，按进度退 30 元"
    )
    assert "本次将退出： ¥30.00" in text(confirm) and "平台余额" in text(confirm)
    case.refresh_from_db()
    assert case.stage == Stage.REFUNDED and case.amount_approved == 30_00

    login(client, buyer)
    body = text(client.get(case_url))
    assert "已退款 ¥30.00" in body
    assert "第5条" in body and "定制服务" in body
    assert "部分章节达标" in body


def test_finance_cannot_review_a_refund_they_approved(client):
    buyer = f.buyer()
    order = custom_service_order(buyer, price=800_00)
    both = f.staff(Role.AGENT, agent_no="A900")
    from kameng.accounts.services import grant_roles

    grant_roles(user=both, roles=[Role.AGENT, Role.FINANCE])
    login(client, buyer)
    submit(client, order, reason="other")
    case = RefundCase.objects.get(order=order)
    login(client, order.seller.owner)
    client.post(
        reverse("refunds:seller_detail", args=[case.pk]),
        {"action": "refuse", "note": "已交付", "files": [png()]},
    )

    url = reverse("refunds:staff_detail", args=[case.pk])
    login(client, both)
    client.post(url, {"action": "claim"})
    confirm, _done = decide_on_page(client, url, decision="approve", clause="5", note="同意")
    assert "先交财务复核" in text(confirm)
    case.refresh_from_db()
    assert case.stage == Stage.FINANCE_REVIEW
    response = client.post(url, {"action": "finance_approve"})

    assert "同一人不能既审批又复核" in text(client.get(response["Location"]))
    case.refresh_from_db()
    assert case.stage == Stage.FINANCE_REVIEW


def test_buyer_can_follow_up_once_a_day_and_cancel(client):
    buyer = f.buyer()
    order = custom_service_order(buyer)
    login(client, buyer)
    submit(client, order, reason="other")
    case = RefundCase.objects.get(order=order)
    act = reverse("refunds:buyer_action", args=[case.pk])

    assert "已提醒" in text(client.get(client.post(act, {"action": "follow_up"})["Location"]))
    assert "24 小时内只能催一次" in text(client.get(client.post(act, {"action": "follow_up"})["Location"]))
    client.post(act, {"action": "cancel"})
    case.refresh_from_db()
    assert case.stage == Stage.CANCELLED
    again = text(client.get(client.post(act, {"action": "cancel"})["Location"]))
    assert "不能执行该操作" in again


def test_buyer_accepts_the_sellers_partial_offer(client):
    buyer = f.buyer()
    order = custom_service_order(buyer, price=100_00)
    login(client, buyer)
    submit(client, order, reason="other")
    case = RefundCase.objects.get(order=order)
    login(client, order.seller.owner)
    seller_url = reverse("refunds:seller_detail", args=[case.pk])
    bad = client.post(seller_url, {"action": "offer_partial", "amount": "abc"})
    assert "不是有效的数字" in text(client.get(bad["Location"]))
    client.post(seller_url, {"action": "offer_partial", "amount": "40.5", "note": "已完成一半"})

    login(client, buyer)
    body = text(client.get(reverse("refunds:detail", args=[case.pk])))
    assert "卖家提出部分退款 ¥40.50" in body and "确认卖家方案" in body
    client.post(reverse("refunds:buyer_action", args=[case.pk]), {"action": "accept_offer"})

    case.refresh_from_db()
    assert case.stage == Stage.REFUNDED and case.amount_approved == 40_50


# --- who may see what ----------------------------------------------------------------------------------


def test_strangers_get_404_on_the_case_and_its_attachments(client):
    buyer, stranger = f.buyer(), f.buyer()
    order = custom_service_order(buyer)
    login(client, buyer)
    submit(
        client,
        order,
        reason="not_as_described",
        evidence_seller_promise=png(),
        evidence_shortfall_proof=pdf(),
    )
    case = RefundCase.objects.get(order=order)
    att = case.attachments.first()
    file_url = reverse("refunds:attachment", args=[case.pk, att.pk])
    assert client.get(file_url).status_code == 200  # the buyer may
    assert b"".join(client.get(file_url).streaming_content) == PNG

    login(client, stranger)
    assert client.get(reverse("refunds:detail", args=[case.pk])).status_code == 404
    assert client.get(file_url).status_code == 404
    assert (
        client.post(reverse("refunds:buyer_action", args=[case.pk]), {"action": "cancel"}).status_code == 404
    )
    assert client.get(reverse("refunds:detail", args=[999999])).status_code == 404

    other_seller = f.seller()
    login(client, other_seller.owner)
    assert client.get(reverse("refunds:seller_detail", args=[case.pk])).status_code == 404
    assert client.get(file_url).status_code == 404
    login(client, order.seller.owner)
    assert client.get(file_url).status_code == 200
    login(client, f.staff(Role.AGENT))
    assert client.get(file_url).status_code == 200
    case.refresh_from_db()
    assert case.stage == Stage.AWAITING_SELLER


def test_buyers_and_sellers_cannot_use_staff_pages(client):
    buyer = f.buyer()
    order = custom_service_order(buyer)
    login(client, buyer)
    submit(client, order, reason="other")
    case = RefundCase.objects.get(order=order)

    assert client.get(reverse("refunds:staff_queue")).status_code == 403
    assert client.get(reverse("refunds:staff_detail", args=[case.pk])).status_code == 403
    assert (
        client.post(
            reverse("refunds:staff_detail", args=[case.pk]),
            {"action": "decide", "decision": "approve", "note": "x"},
        ).status_code
        == 403
    )
    assert client.get(reverse("refunds:seller_cases")).status_code == 403
    login(client, order.seller.owner)
    assert client.get(reverse("refunds:staff_queue")).status_code == 403
    client.logout()
    assert client.get(reverse("refunds:staff_queue")).status_code == 302  # to the login page
    case.refresh_from_db()
    assert case.stage == Stage.AWAITING_SELLER


def test_staff_see_404_for_unknown_cases_and_a_message_for_the_wrong_stage(client):
    buyer = f.buyer()
    order = custom_service_order(buyer)
    login(client, buyer)
    submit(client, order, reason="other")
    case = RefundCase.objects.get(order=order)
    login(client, f.staff(Role.AGENT))

    assert client.get(reverse("refunds:staff_detail", args=[424242])).status_code == 404
    response = client.post(
        reverse("refunds:staff_detail", args=[case.pk]),
        {"action": "decide", "decision": "approve", "clause": "5", "note": "同意"},
    )
    assert "不能执行该操作" in text(client.get(response["Location"]))
    response = client.post(
        reverse("refunds:staff_detail", args=[case.pk]),
        {"action": "decide", "decision": "approve", "clause": "x9", "note": "同意"},
    )
    assert "条款号无效" in text(client.get(response["Location"]))
    case.refresh_from_db()
    assert case.stage == Stage.AWAITING_SELLER


def test_staff_queue_puts_the_soonest_deadline_first_and_filters_by_stage(client):
    buyer = f.buyer()
    cheap, dear = custom_service_order(buyer, price=10_00), custom_service_order(buyer, price=90_00)
    login(client, buyer)
    submit(client, cheap, reason="other")
    submit(client, dear, reason="other")
    first, second = RefundCase.objects.get(order=cheap), RefundCase.objects.get(order=dear)
    # Same deadline: the larger amount comes first.
    RefundCase.objects.filter(pk=second.pk).update(deadline_at=first.deadline_at)

    login(client, f.staff(Role.SUPERVISOR))
    html = client.get(reverse("refunds:staff_queue")).content.decode()

    def link(case):
        return 'href="%s"' % reverse("refunds:staff_detail", args=[case.pk])

    assert html.index(link(second)) < html.index(link(first))
    assert "卖家“" in text_of(html)
    assert (
        link(first)
        not in client.get(reverse("refunds:staff_queue") + "?stage=platform_review").content.decode()
    )
    assert client.get(reverse("refunds:staff_queue") + "?stage=<script>").status_code == 200
