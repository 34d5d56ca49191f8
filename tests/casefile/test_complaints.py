"""Complaints about handling (issue 16, item 6): a buyer complains from the case page; a missed
platform deadline or a broken promise raises one by itself; supervisors answer from their own queue
within clause 9; filing and answer are on the buyer's timeline; floods are contained."""

from datetime import timedelta

import pytest
from django.utils import timezone

from kameng.accounts.models import Role
from kameng.casefile.complaints import ComplaintError, answer_complaint, file_complaint
from kameng.casefile.models import Complaint
from kameng.evidence.models import Event
from kameng.orders.services import place_order
from kameng.refunds.models import EventKind
from kameng.refunds.services import fire_timer, submit_refund
from kameng.support import commitments, services
from tests import factories as f
from tests.refunds.helpers import delivered_custom_order, evidence_for, open_deadline

pytestmark = pytest.mark.django_db


@pytest.fixture
def case():
    buyer = f.buyer("张三", balance=500_00)
    order = delivered_custom_order(buyer, price=80_00)
    return submit_refund(
        order=order,
        actor=buyer,
        reason="not_as_described",
        demand="full_refund",
        description="代练未达到约定段位",
        evidence=evidence_for("not_as_described", order.kind),
    )


def timeline_text(client, case) -> str:
    client.force_login(case.buyer)
    return client.get(f"/refunds/{case.pk}/").content.decode()


def test_a_buyer_complains_and_a_supervisor_answers_on_the_timeline(client, case):
    supervisor = f.staff(Role.SUPERVISOR)
    client.force_login(case.buyer)
    response = client.post(f"/casefile/{case.pk}/complain/", {"text": "卖家一直拖延，客服也不回复"})
    assert response.status_code == 302
    complaint = Complaint.objects.get()
    assert (complaint.source, complaint.state, complaint.clause.split("@")[0]) == ("buyer", "open", "9")
    assert complaint.due_at > timezone.now() + timedelta(hours=20)  # 2 working days
    assert "买家投诉处理过程，客服主管须在" in timeline_text(client, case)
    assert supervisor.notices.filter(link=f"/casefile/complaints/{complaint.pk}/").exists()

    client.force_login(supervisor)
    queue = client.get("/casefile/complaints/").content.decode()
    assert "卖家一直拖延" in queue
    client.post(f"/casefile/complaints/{complaint.pk}/", {"answer": "已督促卖家 24 小时内处理"})
    complaint.refresh_from_db()
    assert complaint.state == "answered" and complaint.answered_by == supervisor
    assert "主管答复投诉：已督促卖家 24 小时内处理" in timeline_text(client, case)
    assert case.buyer.notices.filter(link=f"/refunds/{case.pk}/").exists()


def test_one_open_complaint_per_case_and_a_few_a_day(client, case):
    file_complaint(case_id=case.pk, buyer=case.buyer, text="第一次投诉")
    client.force_login(case.buyer)
    page = client.post(f"/casefile/{case.pk}/complain/", {"text": "再投诉一次"}).content.decode()
    assert "已有一条投诉在等待主管答复" in page and "再投诉一次" in page  # the draft stays
    assert Complaint.objects.count() == 1
    with pytest.raises(ComplaintError, match="请写下"):
        file_complaint(case_id=case.pk, buyer=case.buyer, text="  ")
    with pytest.raises(ComplaintError, match="最多 2000 字"):
        file_complaint(case_id=case.pk, buyer=case.buyer, text="长" * 2001)


def test_nobody_else_complains_or_answers(client, case):
    with pytest.raises(ComplaintError):
        file_complaint(case_id=case.pk, buyer=f.buyer("王五"), text="冒充投诉")
    complaint = file_complaint(case_id=case.pk, buyer=case.buyer, text="投诉")
    with pytest.raises(ComplaintError, match="只有客服主管"):
        answer_complaint(complaint_id=complaint.pk, supervisor=f.staff(Role.AGENT), answer="答复")
    client.force_login(f.staff(Role.AGENT))
    assert client.get("/casefile/complaints/").status_code == 403
    client.force_login(f.buyer("李四"))
    assert client.get(f"/casefile/{case.pk}/complain/").status_code == 404


def test_a_missed_platform_deadline_raises_a_complaint_by_itself(client):
    buyer = f.buyer(balance=50_00)
    product = f.product(kind="direct_topup", price=50_00)
    order = place_order(buyer=buyer, product=product, target_account="unknown-uid-7")
    case = submit_refund(order=order, actor=buyer, reason="not_received", demand="full_refund")
    supplier = case.timers.get(kind="supplier_answer", done_at__isnull=True)
    fire_timer(timer_id=supplier.pk, now=supplier.due_at + timedelta(seconds=1))  # to tech review
    review = open_deadline(case)
    assert fire_timer(timer_id=review.pk, now=review.due_at + timedelta(seconds=1)) == "escalated"

    complaint = Complaint.objects.get(case=case)
    assert complaint.source == "deadline" and complaint.state == "open"
    assert Event.objects.filter(stream=case.stream, kind=EventKind.COMPLAINED).count() == 1
    assert "系统自动登记投诉" in timeline_text(client, case)
    # Firing the same timer again changes nothing: raised once.
    fire_timer(timer_id=review.pk, now=review.due_at + timedelta(seconds=2))
    assert Complaint.objects.filter(case=case).count() == 1


def test_a_broken_promise_raises_a_complaint_by_itself(case):
    agent = f.staff(Role.AGENT)
    f.staff(Role.SUPERVISOR)
    conversation = services.conversation_for(buyer=case.buyer, order=case.order)
    due = timezone.now() + timedelta(hours=2)
    commitments.log_call(
        conversation_id=conversation.pk,
        agent=agent,
        direction="out",
        number="13800138000",
        summary="答应 2 小时内回电",
        promise="2 小时内回电",
        due=due,
    )
    commitments.fire_due(due + timedelta(minutes=1))
    commitments.fire_due(due + timedelta(minutes=2))

    complaint = Complaint.objects.get()
    assert (
        complaint.source == "commitment" and complaint.case == case and complaint.conversation == conversation
    )
    assert "2 小时内回电" in complaint.text
    assert Event.objects.filter(stream=case.stream, kind=EventKind.COMPLAINED).count() == 1
