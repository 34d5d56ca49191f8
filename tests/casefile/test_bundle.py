"""The evidence bundle (issue 16, item 5): the buyer downloads a ZIP that holds up elsewhere, the
offline verifier says it is intact, and a bundle changed afterwards is caught with what was changed."""

import io
import json
import re
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import pytest

from kameng.accounts.models import Role
from kameng.refunds.services import submit_refund
from kameng.support import attachments, services
from tests import factories as f
from tests.refunds.helpers import delivered_custom_order, evidence_for

pytestmark = pytest.mark.django_db
VERIFIER = Path(__file__).resolve().parents[2] / "tools" / "verify_bundle.py"


@pytest.fixture
def case():
    buyer = f.buyer("张三", balance=500_00)
    order = delivered_custom_order(buyer, price=120_00)
    filed = submit_refund(
        order=order,
        actor=buyer,
        reason="not_as_described",
        demand="full_refund",
        description="查重率 32%，承诺低于 15%",
        evidence=evidence_for("not_as_described", order.kind),
    )
    conversation = services.conversation_for(buyer=buyer, order=order)
    services.post_message(
        conversation_id=conversation.pk,
        author=buyer,
        body="我的卡号 6222 0212 3456 7894，请退到这里",
        attachments=attachments.check_all([("查重报告.png", f.image_bytes())]),
    )
    agent = f.staff(Role.AGENT)
    services.post_message(conversation_id=conversation.pk, author=agent, body="已收到，正在核实。")
    services.post_message(
        conversation_id=conversation.pk, author=agent, body="卖家后台显示未交付完整", internal=True
    )
    return filed


def download(client, user, case_id) -> zipfile.ZipFile:
    client.force_login(user)
    response = client.get(f"/casefile/{case_id}/evidence.zip")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert "attachment" in response["Content-Disposition"]
    return zipfile.ZipFile(io.BytesIO(response.content))


def verify(tmp_path, data: bytes) -> tuple[int, str]:
    path = tmp_path / "bundle.zip"
    path.write_bytes(data)
    run = subprocess.run(
        [sys.executable, str(VERIFIER), str(path)], capture_output=True, text=True, timeout=60
    )
    return run.returncode, run.stdout


def rezip(bundle: zipfile.ZipFile, changes: dict[str, bytes | None]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as new:
        for name in bundle.namelist():
            if name in changes:
                if changes[name] is not None:
                    new.writestr(name, changes[name])
            else:
                new.writestr(name, bundle.read(name))
        for name, data in changes.items():
            if name not in bundle.namelist() and data is not None:
                new.writestr(name, data)
    return out.getvalue()


def pdf_streams(pdf: bytes) -> bytes:
    """The PDF's objects with their compressed streams opened (what a viewer reads)."""
    opened = [pdf]
    for raw in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            opened.append(zlib.decompress(raw))
        except zlib.error:
            continue
    return b"\n".join(opened)


def test_the_buyer_downloads_a_bundle_that_verifies_offline(client, case, tmp_path):
    bundle = download(client, case.buyer, case.pk)
    names = set(bundle.namelist())
    assert {
        "manifest.json",
        "timeline.json",
        "timeline.pdf",
        "transcript.json",
        "records.json",
        "clauses.json",
    } <= names
    assert any(n.startswith("attachments/case-") for n in names)  # the evidence filed with the case
    assert any(n.startswith("attachments/message-") and n.endswith(".png") for n in names)

    manifest = json.loads(bundle.read("manifest.json"))
    assert manifest["case"] == case.pk and manifest["chain_head"]["stream"] == case.stream
    timeline = json.loads(bundle.read("timeline.json"))
    assert timeline[-1]["hash"] == manifest["chain_head"]["hash"]

    transcript = json.loads(bundle.read("transcript.json"))
    texts = [m["text"] for m in transcript]
    assert "我的卡号 6222 0212 3456 7894，请退到这里" in texts  # the buyer's own words, as written
    assert "已收到，正在核实。" in texts
    assert not any("卖家后台" in t for t in texts)  # internal notes stay inside
    records = json.loads(bundle.read("records.json"))
    assert records["order"]["no"] == case.order.no and records["order"]["amount_fen"] == 120_00
    clauses = json.loads(bundle.read("clauses.json"))
    cited = {e["clause"] for e in timeline if e["clause"]}
    assert cited and cited <= {c["ref"] for c in clauses}  # every clause the case cited, in its version
    assert all(c["body"] and c["version"] >= 1 for c in clauses)

    pdf = bundle.read("timeline.pdf")
    assert pdf.startswith(b"%PDF")
    opened = pdf_streams(pdf)
    assert b"/FontFile" in opened and b"CJK" in opened  # the Chinese font travels with the file

    code, out = verify(tmp_path, bundle.fp.getvalue())
    assert code == 0, out
    assert out.startswith("OK: case") and manifest["chain_head"]["hash"] in out


def test_staff_get_the_internal_notes_and_see_other_peoples_secrets_masked(client, case):
    bundle = download(client, f.staff(Role.SUPERVISOR), case.pk)
    texts = [m["text"] for m in json.loads(bundle.read("transcript.json"))]
    assert "卖家后台显示未交付完整" in texts
    assert "我的卡号 ************7894，请退到这里" in texts


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ("records", "records.json: changed"),
        ("pdf_removed", "timeline.pdf: missing"),
        ("zip_slip", "../../etc/cron.d/x: unsafe name"),
        ("event_rewritten", "was changed"),
        ("last_event_dropped", "does not end at the chain head"),
    ],
)
def test_a_changed_bundle_is_caught_and_what_changed_is_named(client, case, tmp_path, change, named):
    bundle = download(client, case.buyer, case.pk)
    manifest = json.loads(bundle.read("manifest.json"))
    if change == "records":
        records = json.loads(bundle.read("records.json"))
        records["order"]["amount_fen"] = 1
        data = rezip(bundle, {"records.json": json.dumps(records).encode()})
    elif change == "pdf_removed":
        data = rezip(bundle, {"timeline.pdf": None})
    elif change == "zip_slip":
        data = rezip(bundle, {"../../etc/cron.d/x": b"* * * * * root rm -rf /"})
    else:
        # A careful forger rewrites the timeline AND its digest in the manifest: the chain still tells.
        events = json.loads(bundle.read("timeline.json"))
        if change == "event_rewritten":
            events[0]["data"] = {**events[0]["data"], "amount": 1}
        else:
            events = events[:-1]
        timeline = json.dumps(events, ensure_ascii=False).encode()
        for entry in manifest["files"]:
            if entry["path"] == "timeline.json":
                entry["sha256"] = __import__("hashlib").sha256(timeline).hexdigest()
                entry["size"] = len(timeline)
        data = rezip(bundle, {"timeline.json": timeline, "manifest.json": json.dumps(manifest).encode()})

    code, out = verify(tmp_path, data)
    assert code == 1 and named in out and "NOT VERIFIED" in out


def test_not_a_bundle(tmp_path):
    code, out = verify(tmp_path, b"PK not really a zip")
    assert code == 2 and "NOT VERIFIED" in out


def test_only_the_buyer_and_staff_may_download(client, case):
    client.force_login(f.buyer("李四"))
    assert client.get(f"/casefile/{case.pk}/evidence.zip").status_code == 404
    client.force_login(case.seller.owner)
    assert client.get(f"/casefile/{case.pk}/evidence.zip").status_code == 404
    client.logout()
    assert client.get(f"/casefile/{case.pk}/evidence.zip").status_code == 302
