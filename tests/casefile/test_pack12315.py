"""The 12315 pack (issue 16, item 7): once the platform's route is exhausted (rejected after appeal,
or a deadline the platform missed), the buyer gets a complaint with every field 12315 asks for and
the date the 3-year limit runs out; before that, the page says what to do first."""

from datetime import timedelta

import pytest

from kameng.accounts.models import Role
from kameng.refunds.services import appeal, fire_timer
from tests import factories as f
from tests.refunds.helpers import agent, decide, open_deadline
from tests.refunds.test_flows import in_review

pytestmark = pytest.mark.django_db


def test_rejected_after_appeal_the_buyer_gets_a_complete_12315_text(client):
    buyer, seller, order, case = in_review(price=88_00)
    buyer.phone = "13800138000"
    buyer.save()
    seller.address = "杭州市西湖区某路 1 号"
    seller.save()
    decide("reject", case_id=case.pk, agent=agent(), note="证据不足")
    appeal(case_id=case.pk, buyer=buyer, note="我有查重报告")
    decide("reject", case_id=case.pk, agent=f.staff(Role.SUPERVISOR), note="维持驳回")

    client.force_login(buyer)
    page = client.get(f"/casefile/{case.pk}/12315/").content.decode()
    assert 'id="pack-text"' in page
    text = client.get(f"/casefile/{case.pk}/12315/?download=1").content.decode()
    for field in (
        "一、投诉人",
        "13800138000",
        "二、被投诉人",
        "卡盟",
        seller.name,
        "杭州市西湖区某路 1 号",
        "三、投诉请求",
        "退还 ¥88.00",
        "四、事实与理由",
        order.no,
        "五、依据",
        "消费者权益保护法",
        "六、证据",
        "证据包",
        "前提交",
    ):
        assert field in text, field
    assert "地址：（请补充）" in text  # the buyer's own address: the platform does not hold it
    assert "证据不足" in text or "驳回" in text  # what was tried


def test_before_the_route_is_exhausted_the_page_says_what_to_do_first(client):
    buyer, _seller, _order, case = in_review()
    client.force_login(buyer)
    page = client.get(f"/casefile/{case.pk}/12315/").content.decode()
    assert "平台内的途径还没有走完" in page and 'id="pack-text"' not in page
    assert client.get(f"/casefile/{case.pk}/12315/?download=1").status_code == 200  # the page, no text


def test_a_missed_platform_deadline_opens_the_12315_route(client):
    buyer, _seller, _order, case = in_review()
    review = open_deadline(case)
    assert fire_timer(timer_id=review.pk, now=review.due_at + timedelta(seconds=1)) == "escalated"
    client.force_login(buyer)
    text = client.get(f"/casefile/{case.pk}/12315/?download=1").content.decode()
    assert "平台未在承诺的时限内处理" in text and "系统自动登记投诉" in text


def test_only_the_buyer_and_staff_see_the_pack(client):
    _buyer, _seller, _order, case = in_review()
    client.force_login(f.buyer("路人"))
    assert client.get(f"/casefile/{case.pk}/12315/").status_code == 404
    client.force_login(case.seller.owner)
    assert client.get(f"/casefile/{case.pk}/12315/").status_code == 404
