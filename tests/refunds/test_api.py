"""The refund API: what the pages offer, scripts can do, with the same rights and the same engine."""

import io

import pytest
from django.core.management import ManagementUtility, call_command
from django.core.management.base import CommandError
from django.db import connections

from kameng.accounts.api import issue_token
from kameng.accounts.models import Role
from kameng.orders.models import OrderStatus
from kameng.orders.services import place_order, reveal_card_keys
from kameng.refunds.models import Payout, Stage
from kameng.wallet.services import buyer_balance, check_ledger
from tests import factories as f

pytestmark = pytest.mark.django_db

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)


class Api:
    """A script's view of the API: one user, one bearer token."""

    def __init__(self, client, user):
        self.client = client
        self.headers = {"Authorization": f"Bearer {issue_token(user)}"}

    def get(self, path, **params):
        return self.client.get(f"/api{path}", params, headers=self.headers)

    def post(self, path, data=None):
        return self.client.post(
            f"/api{path}", data or {}, content_type="application/json", headers=self.headers
        )

    def multipart(self, path, data):
        return self.client.post(f"/api{path}", data, headers=self.headers)


def as_user(client, user) -> Api:
    return Api(client, user)


def undelivered_activation(buyer):
    """A paid membership the seller never activated."""
    product = f.product(kind="activation", price=30_00, of=f.seller(platform=True))
    order = place_order(buyer=buyer, product=product, target_account="member-42")
    assert order.status == OrderStatus.PAID
    return order


def revealed_key_order(buyer, *, price=10_00, seller=None):
    """A delivered card key the buyer has already looked at: nothing the system can decide alone."""
    order = place_order(
        buyer=buyer, product=f.product(price=price, keys=2, of=seller or f.seller(platform=True))
    )
    reveal_card_keys(order_id=order.pk, buyer=buyer)
    return order


def file_refund(api, order, **extra):
    return api.post(
        "/refunds",
        {
            "order_no": order.no,
            "reason": "other",
            "demand": "full_refund",
            "description": "不想要了",
            **extra,
        },
    )


# --- auth -----------------------------------------------------------------------------------------------


def test_a_script_gets_a_token_with_its_password_and_loses_it_when_the_password_changes(client):
    buyer = f.buyer()

    wrong = client.post(
        "/api/auth/token", {"username": buyer.username, "password": "nope"}, content_type="application/json"
    )
    assert wrong.status_code == 401
    assert wrong.json()["detail"] == "用户名或密码错误。"

    got = client.post(
        "/api/auth/token",
        {"username": buyer.username, "password": f.PASSWORD},
        content_type="application/json",
    )
    assert got.status_code == 200
    token = got.json()["token"]
    me = client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.json()["username"] == buyer.username
    assert client.get("/api/refunds", headers={"Authorization": f"Bearer {token}"}).status_code == 200

    assert client.get("/api/refunds").status_code == 401
    forged = client.get("/api/refunds", headers={"Authorization": f"Bearer {token[:-2]}xx"})
    assert forged.status_code == 401
    assert "令牌" in forged.json()["detail"]

    buyer.set_password("a-new-password-456")
    buyer.save()
    assert client.get("/api/refunds", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_the_browser_session_still_works_and_is_csrf_checked(client):
    from django.test import Client

    buyer = f.buyer()
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(buyer)

    assert strict.get("/api/refunds").status_code == 200
    assert strict.post("/api/refunds", {}, content_type="application/json").status_code == 403


# --- buyer ----------------------------------------------------------------------------------------------


def test_a_buyer_submits_an_undelivered_order_and_the_answer_already_says_refunded(client):
    buyer = f.buyer(balance=30_00)
    order = undelivered_activation(buyer)
    api = as_user(client, buyer)

    checklist = api.get("/refunds/checklist", order_no=order.no, reason="not_received")
    assert checklist.status_code == 200
    assert checklist.json()["items"] == []
    assert order.no in checklist.json()["statement"]

    r = api.post("/refunds", {"order_no": order.no, "reason": "not_received", "demand": "full_refund"})

    assert r.status_code == 201, r.content
    case = r.json()
    assert case["stage"] == Stage.REFUNDED
    assert case["stage_label"] == "已退款"
    assert case["decision_clause"] == "3@v1"
    assert case["amount_approved"] == 30_00
    assert case["path"][-1] == {"key": "done", "label": "已退款", "state": "done"}
    whole = api.get(case["url"].removeprefix("/api")).json()
    assert [e["kind"] for e in whole["timeline"]][:2] == ["submitted", "stage_changed"]
    assert all(e["text"] for e in whole["timeline"])  # the same sentences the case page shows
    assert buyer_balance(buyer) == 30_00
    assert api.get("/refunds").json()["items"][0]["id"] == case["id"]
    assert check_ledger() == []


def test_the_submit_answer_is_what_reading_the_case_back_shows(client):
    """The submit answer is built from what the call wrote; it must match the stored case exactly,
    and point at it."""
    buyer = f.buyer(balance=40_00)
    api = as_user(client, buyer)
    shot = io.BytesIO(PNG)
    shot.name = "error.png"
    answers = [
        api.post(
            "/refunds",
            {"order_no": undelivered_activation(buyer).no, "reason": "not_received", "demand": "full_refund"},
        ),
        api.multipart(
            "/refunds/with-evidence",
            {
                "order_no": revealed_key_order(buyer, seller=f.seller()).no,
                "reason": "invalid_key",
                "demand": "full_refund",
                "items": "redeem_error",
                "files": [shot],
            },
        ),
        file_refund(api, revealed_key_order(buyer, seller=f.seller())),
    ]

    for r in answers:
        assert r.status_code == 201, r.content
        answer = r.json()
        stored = api.get(answer.pop("url").removeprefix("/api")).json()
        assert answer == {k: stored[k] for k in answer}
        assert stored["timeline"] and stored["statement"]
    assert [r.json()["stage"] for r in answers] == [Stage.REFUNDED, Stage.REFUNDED, Stage.AWAITING_SELLER]
    assert answers[1].json()["attachments"][0]["sha256"]


def test_a_stranger_gets_404_on_someone_elses_case(client):
    buyer = f.buyer(balance=10_00)
    case = file_refund(as_user(client, buyer), revealed_key_order(buyer)).json()
    stranger = as_user(client, f.buyer())

    assert stranger.get(f"/refunds/{case['id']}").status_code == 404
    assert stranger.post(f"/refunds/{case['id']}/cancel").status_code == 404
    assert stranger.get("/refunds/checklist", order_no=case["order_no"], reason="other").status_code == 404
    assert file_refund(stranger, type("O", (), {"no": case["order_no"]})).status_code == 404
    assert stranger.get("/refunds").json() == {"items": [], "count": 0}


def test_json_true_is_not_an_amount(client):
    buyer = f.buyer(balance=10_00)
    order = revealed_key_order(buyer)

    r = file_refund(as_user(client, buyer), order, demand="partial_refund", amount=True)

    assert r.status_code == 422
    assert r.json()["detail"] == "请求参数有误"


@pytest.mark.parametrize("amount", [0, -1, 10_01])
def test_a_partial_amount_must_be_above_zero_and_within_what_was_paid(client, amount):
    buyer = f.buyer(balance=10_00)
    order = revealed_key_order(buyer)

    r = file_refund(as_user(client, buyer), order, demand="partial_refund", amount=amount)

    assert r.status_code == 400
    assert "部分退款金额" in r.json()["detail"]


def test_evidence_the_checklist_asks_for_goes_with_the_request_as_multipart(client):
    buyer = f.buyer(balance=10_00)
    order = revealed_key_order(buyer, seller=f.seller())
    api = as_user(client, buyer)
    assert api.get("/refunds/checklist", order_no=order.no, reason="invalid_key").json()["items"][0][
        "code"
    ] == ("redeem_error")

    without = api.post("/refunds", {"order_no": order.no, "reason": "invalid_key", "demand": "full_refund"})
    assert without.status_code == 400
    assert "兑换失败的截图" in without.json()["detail"]

    shot = io.BytesIO(PNG)
    shot.name = "error.png"
    r = api.multipart(
        "/refunds/with-evidence",
        {
            "order_no": order.no,
            "reason": "invalid_key",
            "demand": "full_refund",
            "items": "redeem_error",
            "files": [shot],
        },
    )
    assert r.status_code == 201, r.content
    assert r.json()["attachments"][0]["item"] == "redeem_error"
    assert r.json()["attachments"][0]["content_type"] == "image/png"


def test_a_buyer_adds_evidence_follows_up_once_and_cancels(client):
    buyer = f.buyer(balance=10_00)
    api = as_user(client, buyer)
    case = file_refund(api, revealed_key_order(buyer, seller=f.seller())).json()
    assert case["stage"] == Stage.AWAITING_SELLER
    assert case["deadline_action"]

    shot = io.BytesIO(PNG)
    shot.name = "chat.png"
    added = api.multipart(f"/refunds/{case['id']}/evidence", {"item": "chat", "file": shot})
    assert added.status_code == 200, added.content
    assert len(added.json()["attachments"]) == 1

    assert api.post(f"/refunds/{case['id']}/follow-up").status_code == 200
    again = api.post(f"/refunds/{case['id']}/follow-up")
    assert again.status_code == 400
    assert "24 小时内只能催一次" in again.json()["detail"]

    cancelled = api.post(f"/refunds/{case['id']}/cancel")
    assert cancelled.json()["stage"] == Stage.CANCELLED


# --- seller ---------------------------------------------------------------------------------------------


def test_a_seller_must_give_a_file_to_refuse_and_the_case_then_goes_to_review(client):
    buyer, shop = f.buyer(balance=10_00), f.seller()
    case = file_refund(as_user(client, buyer), revealed_key_order(buyer, seller=shop)).json()
    seller = as_user(client, shop.owner)
    assert seller.get(f"/refunds/{case['id']}").status_code == 200
    assert as_user(client, buyer).post(f"/refunds/{case['id']}/seller/agree").status_code == 403

    bare = seller.multipart(f"/refunds/{case['id']}/seller/refuse", {"note": "卡密已被使用"})
    assert bare.status_code == 400
    assert bare.json()["detail"] == "拒绝退款需要填写理由并上传证据。"

    proof = io.BytesIO(PNG)
    proof.name = "redeemed.png"
    r = seller.multipart(f"/refunds/{case['id']}/seller/refuse", {"note": "卡密已被使用", "files": [proof]})
    assert r.status_code == 200, r.content
    assert r.json()["stage"] == Stage.PLATFORM_REVIEW


def test_a_seller_offer_is_answered_with_a_real_boolean(client):
    buyer, shop = f.buyer(balance=10_00), f.seller()
    api = as_user(client, buyer)
    case = file_refund(api, revealed_key_order(buyer, seller=shop)).json()

    offered = as_user(client, shop.owner).post(
        f"/refunds/{case['id']}/seller/offer", {"offer": "partial", "amount": 4_00, "note": "退一半"}
    )
    assert offered.status_code == 200, offered.content
    assert offered.json()["seller_offer"] == "partial"

    assert api.post(f"/refunds/{case['id']}/offer-answer", {"accept": 1}).status_code == 422
    accepted = api.post(f"/refunds/{case['id']}/offer-answer", {"accept": True})
    assert accepted.status_code == 200
    assert accepted.json()["stage"] == Stage.REFUNDED
    assert accepted.json()["amount_approved"] == 4_00


# --- staff ----------------------------------------------------------------------------------------------


def test_an_agent_works_the_queue_and_decides_by_api(client):
    buyer = f.buyer(balance=10_00)
    case = file_refund(as_user(client, buyer), revealed_key_order(buyer)).json()
    assert case["stage"] == Stage.PLATFORM_REVIEW
    agent = as_user(client, f.staff(Role.AGENT, agent_no="8001"))

    queue = agent.get("/refunds", stage="platform_review").json()
    assert [c["id"] for c in queue["items"]] == [case["id"]]
    claimed = agent.post(f"/refunds/{case['id']}/claim").json()
    assert claimed["holder_agent_no"] == "8001"
    no_note = agent.post(f"/refunds/{case['id']}/decide", {"decision": "approve"})
    assert no_note.status_code == 400

    unconfirmed = agent.post(
        f"/refunds/{case['id']}/decide", {"decision": "approve", "clause_number": 1, "note": "同意"}
    )
    assert unconfirmed.status_code == 400 and "confirmed_amount" in unconfirmed.json()["detail"]
    shown = agent.get(f"/refunds/{case['id']}/decision-preview", decision="approve").json()
    assert shown["confirmed_amount"] == 10_00 and "平台余额" in shown["destination"]

    r = agent.post(
        f"/refunds/{case['id']}/decide",
        {"decision": "approve", "clause_number": 1, "note": "核实属实，同意退款", "confirmed_amount": 10_00},
    )

    assert r.status_code == 200, r.content
    assert r.json()["stage"] == Stage.REFUNDED
    assert r.json()["decision_clause"] == "1@v1"
    assert any(e["actor"] == "客服 8001" for e in r.json()["timeline"])
    assert buyer_balance(buyer) == 10_00
    assert (
        as_user(client, buyer)
        .post(f"/refunds/{case['id']}/decide", {"decision": "approve", "note": "自己批"})
        .status_code
        == 403
    )


def test_an_agent_files_on_the_buyers_behalf(client):
    buyer = f.buyer(balance=30_00)
    order = undelivered_activation(buyer)
    agent = as_user(client, f.staff(Role.AGENT))

    r = agent.post(
        "/refunds",
        {"order_no": order.no, "reason": "not_received", "demand": "full_refund", "channel": "phone"},
    )

    assert r.status_code == 201, r.content
    seen_by_buyer = as_user(client, buyer).get(f"/refunds/{r.json()['id']}")
    assert seen_by_buyer.status_code == 200
    assert seen_by_buyer.json()["channel"] == "phone"


def test_finance_cannot_second_approve_their_own_approval(client):
    buyer = f.buyer(balance=600_00)
    case = file_refund(as_user(client, buyer), revealed_key_order(buyer, price=600_00)).json()
    both = f.staff(Role.AGENT)
    from kameng.accounts.services import grant_roles

    grant_roles(user=both, roles=[Role.FINANCE])
    approver = as_user(client, both)
    approver.post(f"/refunds/{case['id']}/claim")
    approved = approver.post(
        f"/refunds/{case['id']}/decide", {"decision": "approve", "note": "同意", "confirmed_amount": 600_00}
    ).json()
    assert approved["stage"] == Stage.FINANCE_REVIEW

    r = approver.post(f"/refunds/{case['id']}/finance", {"approve": True})

    assert r.status_code == 400
    assert r.json()["detail"] == "同一人不能既审批又复核，请由另一位财务人员处理。"
    assert (
        as_user(client, f.staff(Role.AGENT))
        .post(f"/refunds/{case['id']}/finance", {"approve": True})
        .status_code
        == 403
    )
    done = as_user(client, f.staff(Role.FINANCE)).post(f"/refunds/{case['id']}/finance", {"approve": True})
    assert done.json()["stage"] == Stage.REFUNDED
    assert buyer_balance(buyer) == 600_00


def test_clauses_are_public(client):
    r = client.get("/api/refunds/clauses")
    assert r.status_code == 200
    assert [c["number"] for c in r.json()][:3] == [1, 2, 3]


# --- reconciliation -------------------------------------------------------------------------------------


def test_finance_reconciles_every_payout_and_the_command_agrees(client, capsys):
    buyer = f.buyer(balance=30_00)
    case = (
        as_user(client, buyer)
        .post("/refunds", {"order_no": undelivered_activation(buyer).no, "reason": "not_received"})
        .json()
    )
    assert as_user(client, buyer).get("/refunds/reconciliation").status_code == 403

    rows = as_user(client, f.staff(Role.FINANCE)).get("/refunds/reconciliation").json()

    assert len(rows) == 1
    assert rows[0] | {"created_at": None, "completed_at": None} == {
        "payout_id": rows[0]["payout_id"],
        "case_id": case["id"],
        "order_no": case["order_no"],
        "amount": 30_00,
        "method": "balance",
        "status": "succeeded",
        "ledger_key": f"refund:{case['id']}:1",
        "gateway_status": None,
        "gateway_refund_no": "",
        "created_at": None,
        "completed_at": None,
        "problems": [],
    }

    out = io.StringIO()
    call_command("reconcile_refunds", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == (
        f"case={case['id']} order={case['order_no']} amount=3000 method=balance "
        f"status=succeeded ledger=refund:{case['id']}:1 gateway=-"
    )
    assert lines[-1] == "payouts=1 amount=3000 problems=0"


def test_reconcile_refunds_exits_non_zero_on_a_payout_without_its_ledger_transaction(
    client, capsys, monkeypatch
):
    buyer = f.buyer(balance=30_00)
    case = (
        as_user(client, buyer)
        .post("/refunds", {"order_no": undelivered_activation(buyer).no, "reason": "not_received"})
        .json()
    )
    Payout.objects.create(
        case_id=case["id"], key=f"refund:{case['id']}:9", amount=1_00, method="balance", status="succeeded"
    )

    with pytest.raises(CommandError, match="no ledger transaction"):
        call_command("reconcile_refunds", stdout=io.StringIO())
    # run_from_argv closes every connection when it ends, which would end this test's transaction.
    monkeypatch.setattr(connections, "close_all", lambda: None)
    with pytest.raises(SystemExit) as exited:
        ManagementUtility(["manage.py", "reconcile_refunds"]).execute()

    assert exited.value.code == 1
    captured = capsys.readouterr()
    assert "ledger=MISSING" in captured.out
    assert captured.err.strip().count("\n") == 0
    assert "do not reconcile" in captured.err


def test_the_buyer_reads_facts_but_never_the_engines_own_state(client):
    """Who asked for material, which payments to pay back, whether to void the order: the engine
    keeps these for itself; the buyer's answer carries the shown facts only."""
    buyer = f.buyer(balance=10_00)
    case = file_refund(as_user(client, buyer), revealed_key_order(buyer)).json()
    agent_user = f.staff(Role.AGENT, agent_no="8002")
    asked = as_user(client, agent_user).post(
        f"/refunds/{case['id']}/request-info", {"note": "请补充兑换截图"}
    )
    assert asked.status_code == 200, asked.content

    seen = as_user(client, buyer).get(f"/refunds/{case['id']}").json()

    assert seen["stage"] == Stage.NEEDS_INFO
    facts = seen["facts"]
    assert facts["order_no"] and facts["verified"]
    for internal in ("info_requested_by", "void_order", "revoke_keys", "payment_ids", "appealed_at"):
        assert internal not in facts
