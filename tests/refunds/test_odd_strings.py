"""Sentences that read right: a follow-up reminding one person, what the buyer can do when there is
nothing to do, and the countdown line after an agent's number."""

import re

import pytest
from django.urls import reverse
from django.utils import translation

from kameng.evidence.models import Event
from kameng.refunds import selectors
from kameng.refunds.models import RefundCase, Stage
from kameng.refunds.services import follow_up
from tests import factories as f
from tests.refunds.helpers import agent
from tests.refunds.test_pages import custom_service_order, login, png, submit, text

pytestmark = pytest.mark.django_db


def _refused_and_claimed(client):
    buyer = f.buyer()
    order = custom_service_order(buyer)
    login(client, buyer)
    submit(client, order, reason="other")
    case = RefundCase.objects.get(order=order)
    login(client, order.seller.owner)
    client.post(
        reverse("refunds:seller_detail", args=[case.pk]),
        {"action": "refuse", "note": "已交付", "files": [png("d.png")]},
    )
    staff = agent()
    login(client, staff)
    client.post(reverse("refunds:staff_detail", args=[case.pk]), {"action": "claim"})
    case.refresh_from_db()
    return buyer, staff, case


def test_a_follow_up_that_reminded_one_person_reads_right_in_english(client):
    buyer, _staff, case = _refused_and_claimed(client)
    follow_up(case_id=case.pk, buyer=buyer)
    event = Event.objects.filter(stream=case.stream, kind="follow_up").latest("pk")
    with translation.override("en"):
        sentence = selectors.event_sentence(event, case)
    assert "1 people" not in sentence
    assert "1" in sentence


def test_the_countdown_line_keeps_the_agent_number_apart_from_the_words(client):
    buyer, staff, case = _refused_and_claimed(client)
    assert case.holder_user_id == staff.pk
    login(client, buyer)
    page = text(client.get(reverse("refunds:detail", args=[case.pk])))
    assert f"客服 {staff.agent_no}" in page
    assert not re.search(re.escape(staff.agent_no) + r"[\u4e00-\u9fff]", page)


def test_nothing_to_do_is_said_as_a_sentence_not_after_you_can(client):
    buyer = f.buyer()
    order = custom_service_order(buyer)
    login(client, buyer)
    submit(client, order, reason="other")
    case = RefundCase.objects.get(order=order)
    RefundCase.objects.filter(pk=case.pk).update(stage=Stage.VERIFYING)
    page = text(client.get(reverse("refunds:detail", args=[case.pk])))
    assert "无需操作" in page
    assert "您可以：无需操作" not in page.replace(" ", "")
