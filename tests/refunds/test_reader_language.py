"""What a case says (why it is where it is, what happens at the deadline, its timeline, the notices
it sends) is stored as what happened and worded in the reader's language, whatever language the
person who moved the case was reading (issue 14, item 11)."""

import pytest
from django.utils import translation

from kameng.refunds.services import claim, reject
from tests import factories as f
from tests.refunds.helpers import agent
from tests.refunds.test_flows import in_review

pytestmark = pytest.mark.django_db


def test_an_agent_reading_english_rejects_and_the_chinese_buyer_reads_chinese(client):
    buyer, _seller, _order, case = in_review(price=100_00)
    with translation.override("en"):
        who = agent()
        claim(case_id=case.pk, agent=who)
        case = reject(case_id=case.pk, agent=who, clause_number=5, note="证据不足")

    client.force_login(buyer)
    chinese = client.get(f"/refunds/{case.pk}/").content.decode()
    assert "驳回（依据第5条）：证据不足" in chinese  # the reason
    assert "可在此之前申诉；逾期未申诉，申请结束" in chinese  # what happens at the deadline
    assert "rejected" not in chinese.lower() and "appeal before" not in chinese.lower()
    assert f.told(buyer, "您的退款申请被驳回")


def test_the_same_case_reads_english_to_an_english_reader(client):
    buyer, _seller, _order, case = in_review(price=100_00)
    who = agent()
    claim(case_id=case.pk, agent=who)
    case = reject(case_id=case.pk, agent=who, clause_number=5, note="证据不足")  # written in Chinese

    client.force_login(buyer)
    english = client.get(f"/refunds/{case.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "rejected the request (under clause 5): 证据不足" in english  # the note is the agent's own words
    assert "驳回（依据第5条）" not in english
    api = client.get(f"/api/refunds/{case.pk}", HTTP_ACCEPT_LANGUAGE="en").json()
    assert "rejected" in api["stage_reason"] and "驳回" not in api["stage_reason"]
    with translation.override("en"):
        assert f.told(buyer, "rejected")


def test_text_stored_before_sentences_were_data_is_shown_as_it_was_written(client):
    buyer, _seller, _order, case = in_review(price=100_00)
    type(case).objects.filter(pk=case.pk).update(stage_reason="旧的说明 100%", deadline_action="旧的后果")
    case.refresh_from_db()

    assert (case.why, case.if_no_action) == ("旧的说明 100%", "旧的后果")
    client.force_login(buyer)
    assert "旧的说明 100%" in client.get(f"/refunds/{case.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
