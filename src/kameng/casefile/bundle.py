"""The evidence bundle of a refund case (SPEC §10, issue 16 item 5): one ZIP a buyer (their own cases)
or staff download, that holds up elsewhere.

    manifest.json      what is in the bundle: each file's SHA-256 and size, and the case's chain head
    timeline.json      the case's events exactly as hashed (the offline verifier recomputes the chain)
    timeline.pdf       the same, readable: facts, timeline, transcript, clauses; Chinese font embedded
    transcript.json    every message about the order, across channels (internal notes: staff only)
    records.json       order, payments, verified delivery facts, payouts
    clauses.json       the clauses the case cited, with their versions and text
    attachments/...    the evidence files of the case and the files sent in the conversation

`tools/verify_bundle.py` (standard library only) checks a bundle offline and names what was changed.
"""

import hashlib
import io
import json
import re
import zipfile
from dataclasses import dataclass
from datetime import datetime

from django.template.loader import render_to_string
from django.utils import timezone, translation

from kameng.evidence.models import Event, StreamHead
from kameng.payments.models import Payment
from kameng.refunds import selectors as refunds
from kameng.refunds.models import Clause, RefundCase
from kameng.safety.masking import shown_to
from kameng.support.models import Conversation, Message, MessageAttachment

FORMAT = "kameng-evidence-bundle/1"
SAFE_NAME = re.compile(r"[^\w.\-]+")


@dataclass(frozen=True)
class Bundle:
    name: str
    data: bytes
    manifest: dict


def build(case: RefundCase, *, viewer, for_staff: bool) -> Bundle:
    """The bundle of `case` as `viewer` may see it (the caller has checked they may)."""
    files: dict[str, bytes] = {}
    events = list(Event.objects.filter(stream=case.stream).order_by("seq"))
    files["timeline.json"] = _json([_event_record(e) for e in events])
    transcript = _transcript(case, viewer=viewer, for_staff=for_staff)
    files["transcript.json"] = _json(transcript)
    files["records.json"] = _json(_records(case))
    clauses = _clauses(case, events)
    files["clauses.json"] = _json(clauses)
    for path, data in _attachments(case, for_staff=for_staff):
        files[path] = data
    head = StreamHead.objects.filter(stream=case.stream).values("seq", "hash").first()
    chain_head = {"stream": case.stream, "seq": head["seq"], "hash": head["hash"]} if head else None
    generated_at = timezone.now()
    files["timeline.pdf"] = _pdf(
        case,
        events=events,
        transcript=transcript,
        clauses=clauses,
        chain_head=chain_head,
        generated_at=generated_at,
        for_staff=for_staff,
    )
    manifest = {
        "format": FORMAT,
        "case": case.pk,
        "order_no": case.order.no,
        "generated_at": generated_at.isoformat(),
        "generated_for": "staff" if for_staff else "buyer",
        "chain_head": chain_head,
        "files": [
            {"path": path, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
            for path, data in sorted(files.items())
        ],
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", _json(manifest))
        for path, data in sorted(files.items()):
            archive.writestr(path, data)
    return Bundle(name=f"kameng-case-{case.pk}-evidence.zip", data=out.getvalue(), manifest=manifest)


def _json(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=1, default=str).encode()


def _event_record(e: Event) -> dict:
    """Every field the event's hash covers, in the form it was hashed (Event.compute_hash)."""
    return {
        "stream": e.stream,
        "seq": e.seq,
        "kind": e.kind,
        "actor": e.actor_id,
        "actor_label": e.actor_label,
        "data": e.data,
        "clause": e.clause,
        "at": e.created_at.isoformat(),
        "prev": e.prev_hash,
        "hash": e.hash,
    }


def _transcript(case: RefundCase, *, viewer, for_staff: bool) -> list[dict]:
    conversation = Conversation.objects.filter(order_id=case.order_id, buyer_id=case.buyer_id).first()
    if conversation is None:
        return []
    messages = Message.objects.filter(conversation=conversation).select_related("author").order_by("id")
    if not for_staff:
        messages = messages.filter(internal=False)
    rows = []
    for m in messages.prefetch_related("attachments"):
        rows.append(
            {
                "id": m.pk,
                "at": m.created_at.isoformat(),
                "channel": m.get_channel_display(),
                "author": m.get_author_kind_display(),
                "agent_no": m.author.agent_no if m.author_id and m.author_kind == "agent" else "",
                "internal": m.internal,
                "text": shown_to(m.text, author_is_viewer=m.author_id == viewer.pk),
                "attachments": [_attachment_path(a) for a in m.attachments.all() if a.file],
            }
        )
    return rows


def _records(case: RefundCase) -> dict:
    order = case.order
    payments = Payment.objects.filter(order=order).order_by("created_at")
    return {
        "order": {
            "no": order.no,
            "product": order.product.name,
            "kind": order.get_kind_display(),
            "quantity": order.quantity,
            "amount_fen": order.amount,
            "status": order.get_status_display(),
            "created_at": order.created_at,
            "paid_at": order.paid_at,
            "delivered_at": order.delivered_at,
            "accepted_terms": order.accepted_terms,
        },
        "payments": [
            {
                "out_trade_no": p.out_trade_no,
                "method": p.get_method_display(),
                "amount_fen": p.amount,
                "status": p.get_status_display(),
                "paid_at": p.paid_at,
            }
            for p in payments
        ],
        "verified_facts": [
            {"label": str(label), "value": str(value)} for label, value in refunds.facts_rows(case)
        ],
        "payouts": [
            {"amount_fen": p.amount, "status": p.get_status_display(), "created_at": p.created_at}
            for p in refunds.payouts_of(case)
        ],
    }


def _clauses(case: RefundCase, events: list[Event]) -> list[dict]:
    """The clauses the case's events cited and the ones the buyer accepted at purchase, each in the
    version that applied."""
    refs = {e.clause for e in events if e.clause}
    for term in case.order.accepted_terms or []:
        if (
            isinstance(term, dict)
            and isinstance(term.get("number"), int)
            and isinstance(term.get("version"), int)
        ):
            refs.add(f"{term['number']}@v{term['version']}")
    found: dict[tuple[int, int], dict] = {}
    for ref in sorted(refs):
        clause = refunds.clause_by_ref(ref)
        if isinstance(clause, Clause):
            found[(clause.number, clause.version)] = {
                "ref": f"{clause.number}@v{clause.version}",
                "number": clause.number,
                "version": clause.version,
                "title": clause.title,
                "body": clause.body,
            }
    return [found[key] for key in sorted(found)]


def _attachment_path(a: MessageAttachment) -> str:
    return f"attachments/message-{a.pk}-{SAFE_NAME.sub('_', a.original_name)[-80:]}"


def _attachments(case: RefundCase, *, for_staff: bool):
    for a in case.attachments.all():
        data = _read(a.file)
        if data is not None:
            yield f"attachments/case-{a.pk}-{SAFE_NAME.sub('_', a.original_name)[-80:]}", data
    message_files = MessageAttachment.objects.filter(
        message__conversation__order_id=case.order_id, message__conversation__buyer_id=case.buyer_id
    ).exclude(file="")
    if not for_staff:
        message_files = message_files.filter(message__internal=False)
    for a in message_files:
        data = _read(a.file)
        if data is not None:
            yield _attachment_path(a), data


def _read(field) -> bytes | None:
    try:
        with field.open("rb") as fh:
            return fh.read()
    except OSError:
        return None


def _pdf(case, *, events, transcript, clauses, chain_head, generated_at: datetime, for_staff: bool) -> bytes:
    import weasyprint  # heavy: imported when a bundle is made, not when the app loads

    with translation.override("zh-hans"):
        html = render_to_string(
            "casefile/bundle.html",
            {
                "case": case,
                "facts": refunds.facts_rows(case),
                "timeline": refunds.timeline(case, viewer_is_buyer=not for_staff),
                "transcript": transcript,
                "clauses": clauses,
                "chain_head": chain_head,
                "generated_at": generated_at,
                "events": len(events),
            },
        )
    return weasyprint.HTML(string=html).write_pdf()
