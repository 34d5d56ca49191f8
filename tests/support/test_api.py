"""Conversations over the API, as a script or an app would use them (issue 15, item 10)."""

import pytest

from kameng.accounts.models import Role
from kameng.orders.services import place_order
from tests import factories as f

pytestmark = pytest.mark.django_db


def post(client, url, data):
    return client.post(f"/api/support{url}", data, content_type="application/json")


def test_a_buyer_opens_writes_once_reads_from_the_last_seen_and_asks_for_a_person(client):
    buyer = f.buyer(balance=50_00)
    order = place_order(buyer=buyer, product=f.product(price=10_00, keys=1))
    client.force_login(buyer)

    conv = post(client, "/conversations", {"order_no": order.no}).json()
    again = post(client, "/conversations", {"order_no": order.no}).json()
    first = post(client, f"/conversations/{conv['id']}/messages", {"body": "你好", "client_id": "m-1"})
    retry = post(client, f"/conversations/{conv['id']}/messages", {"body": "你好", "client_id": "m-1"})

    assert conv["id"] == again["id"] and conv["order_no"] == order.no
    assert first.status_code == retry.status_code == 201 and first.json()["id"] == retry.json()["id"]
    everything = client.get(f"/api/support/conversations/{conv['id']}/messages").json()
    assert [m["text"] for m in everything if m["author"] == "buyer"] == ["你好"]
    newer = client.get(f"/api/support/conversations/{conv['id']}/messages?after={first.json()['id']}").json()
    assert all(m["id"] > first.json()["id"] for m in newer)
    person = post(client, f"/conversations/{conv['id']}/person", {})
    assert person.json()["state"] == "queued"


def test_an_agent_claims_answers_and_notes_and_another_buyer_sees_nothing(client):
    buyer, stranger = f.buyer(), f.buyer()
    agent = f.staff(Role.AGENT, agent_no="2002")
    client.force_login(buyer)
    conv = post(client, "/conversations", {"order_no": ""}).json()

    client.force_login(agent)
    assert client.get("/api/support/queue").status_code == 200
    assert post(client, f"/conversations/{conv['id']}/claim", {}).json()["agent_no"] == "2002"
    post(client, f"/conversations/{conv['id']}/messages", {"body": "您好", "client_id": "a1"})
    post(
        client, f"/conversations/{conv['id']}/messages", {"body": "内部", "client_id": "a2", "internal": True}
    )

    client.force_login(buyer)
    texts = [m["text"] for m in client.get(f"/api/support/conversations/{conv['id']}/messages").json()]
    assert "您好" in texts and "内部" not in texts
    client.force_login(stranger)
    assert client.get(f"/api/support/conversations/{conv['id']}/messages").status_code == 404
    assert post(client, f"/conversations/{conv['id']}/messages", {"body": "x"}).status_code == 404
    assert client.get("/api/support/queue").status_code == 403
    assert post(client, f"/conversations/{conv['id']}/claim", {}).status_code == 403


def test_bad_messages_are_refused_clearly(client):
    buyer = f.buyer()
    client.force_login(buyer)
    conv = post(client, "/conversations", {"order_no": ""}).json()

    empty = post(client, f"/conversations/{conv['id']}/messages", {"body": "   "})
    note = post(client, f"/conversations/{conv['id']}/messages", {"body": "x", "internal": True})
    huge = post(client, f"/conversations/{conv['id']}/messages", {"body": "长" * 2001})

    assert empty.status_code == 400 and "请输入内容" in empty.json()["detail"]
    assert note.status_code == 400 and "内部备注" in note.json()["detail"]
    assert huge.status_code == 422


def test_the_wait_is_public(client):
    data = client.get("/api/support/wait").json()
    assert data["position"] == 1 and data["minutes"] is None  # nobody online
