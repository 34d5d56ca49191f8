"""Phone calls and commitments over the API (issue 15, items 6 and 10): what an agent does on the
conversation page (log a call, a promise in it, keep a commitment) and a buyer's call-back booking,
for scripts; someone else's conversation answers 404, a buyer cannot act as an agent (403)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from kameng.accounts.models import Role
from kameng.support import services
from kameng.support.models import Call, Commitment
from tests import factories as f

pytestmark = pytest.mark.django_db


def post(client, url, data=None):
    return client.post(f"/api/support{url}", data or {}, content_type="application/json")


def later(**delta) -> str:
    return (timezone.now() + timedelta(**delta)).isoformat()


@pytest.fixture
def people():
    buyer, stranger = f.buyer(), f.buyer()
    agent = f.staff(Role.AGENT, agent_no="4004")
    conversation = services.conversation_for(buyer=buyer)
    return {"buyer": buyer, "stranger": stranger, "agent": agent, "conversation": conversation}


def test_an_agent_logs_a_call_with_a_promise_lists_it_and_keeps_the_commitment(client, people):
    cid = people["conversation"].pk
    client.force_login(people["agent"])

    logged = post(
        client,
        f"/conversations/{cid}/calls",
        {
            "direction": "in",
            "number": "13800000000",
            "summary": "买家询问退款进度",
            "promise": "18:00 前回电",
            "due_at": later(hours=3),
        },
    )

    assert logged.status_code == 201
    body = logged.json()
    assert body["call"]["agent_no"] == "4004" and body["call"]["summary"] == "买家询问退款进度"
    assert body["commitment"]["state"] == "open" and body["commitment"]["text"] == "18:00 前回电"
    calls = client.get(f"/api/support/conversations/{cid}/calls").json()
    assert [c["number"] for c in calls] == ["13800000000"]
    mine = client.get("/api/support/commitments?state=open").json()
    assert [c["id"] for c in mine] == [body["commitment"]["id"]]

    kept = post(client, f"/conversations/{cid}/commitments/{body['commitment']['id']}/keep")
    assert kept.status_code == 200 and kept.json()["state"] == "kept"
    assert client.get("/api/support/commitments?state=open").json() == []
    assert post(client, f"/conversations/{cid}/commitments/999999/keep").status_code == 404


def test_a_call_without_a_promise_and_with_working_days(client, people):
    cid = people["conversation"].pk
    client.force_login(people["agent"])

    plain = post(
        client, f"/conversations/{cid}/calls", {"direction": "out", "number": "010-1234", "summary": "回访"}
    )
    days = post(
        client,
        f"/conversations/{cid}/calls",
        {"direction": "out", "number": "010-1234", "summary": "回访", "promise": "退款", "working_days": 2},
    )

    assert plain.status_code == 201 and plain.json()["commitment"] is None
    assert days.status_code == 201 and days.json()["commitment"]["due_at"] > later(days=1)
    assert Call.objects.filter(conversation_id=cid).count() == 2


def test_bad_calls_are_refused_with_a_reason_and_nothing_saved(client, people):
    cid = people["conversation"].pk
    client.force_login(people["agent"])
    base = {"direction": "in", "number": "13800000000", "summary": "来电"}

    no_deadline = post(client, f"/conversations/{cid}/calls", {**base, "promise": "回电"})
    past = post(client, f"/conversations/{cid}/calls", {**base, "promise": "回电", "due_at": later(hours=-1)})
    boolean = post(client, f"/conversations/{cid}/calls", {**base, "promise": "回电", "working_days": True})
    direction = post(client, f"/conversations/{cid}/calls", {**base, "direction": "sideways"})

    assert no_deadline.status_code == 422 and boolean.status_code == 422 and direction.status_code == 422
    assert past.status_code == 400 and "晚于现在" in past.json()["detail"]
    assert not Call.objects.exists() and not Commitment.objects.exists()


def test_a_buyer_books_a_call_back_once_and_reads_the_commitments_but_not_the_calls(client, people):
    cid = people["conversation"].pk
    client.force_login(people["buyer"])

    booked = post(client, f"/conversations/{cid}/callback", {"at": later(hours=4), "phone": "13900000000"})
    again = post(client, f"/conversations/{cid}/callback", {"at": later(hours=5), "phone": "13900000000"})

    assert (
        booked.status_code == 201
        and booked.json()["kind"] == "callback"
        and booked.json()["agent_no"] is None
    )
    assert again.status_code == 400 and "已有一个待回电的预约" in again.json()["detail"]
    listed = client.get(f"/api/support/conversations/{cid}/commitments").json()
    assert [c["phone"] for c in listed] == ["13900000000"]
    assert client.get(f"/api/support/conversations/{cid}/calls").status_code == 403
    assert (
        post(
            client, f"/conversations/{cid}/calls", {"direction": "in", "number": "1", "summary": "x"}
        ).status_code
        == 403
    )
    assert client.get("/api/support/commitments").status_code == 403

    # The queue holds an unclaimed call-back: every agent sees it among theirs.
    client.force_login(people["agent"])
    assert [c["kind"] for c in client.get("/api/support/commitments").json()] == ["callback"]


def test_another_buyer_reaches_none_of_it(client, people):
    cid = people["conversation"].pk
    client.force_login(people["stranger"])

    assert client.get(f"/api/support/conversations/{cid}/commitments").status_code == 404
    assert (
        post(client, f"/conversations/{cid}/callback", {"at": later(hours=4), "phone": "139"}).status_code
        == 404
    )
    assert not Commitment.objects.exists()


def test_the_openapi_schema_declares_the_new_routes_and_their_errors(client):
    schema = client.get("/api/openapi.json").json()
    for path, method in [
        ("/api/support/conversations/{conversation_id}/calls", "post"),
        ("/api/support/conversations/{conversation_id}/calls", "get"),
        ("/api/support/conversations/{conversation_id}/commitments", "get"),
        ("/api/support/conversations/{conversation_id}/commitments/{commitment_id}/keep", "post"),
        ("/api/support/conversations/{conversation_id}/callback", "post"),
        ("/api/support/commitments", "get"),
        ("/api/notices", "get"),
        ("/api/notices/unread", "get"),
        ("/api/notices/{notice_id}/read", "post"),
        ("/api/notices/read-all", "post"),
        ("/api/notices/preferences", "put"),
    ]:
        responses = schema["paths"][path][method]["responses"]
        assert {"400", "403", "404", "422"} <= set(responses), (path, method)
