"""The append-only event log: one hash chain per stream ("order:<id>", "case:<id>"), each stream's
head anchored in a sealed row written with it (StreamHead), so that a changed, reordered or deleted
event is found, the last one included."""

from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from .models import Event, StreamHead

SEAL_SALT = "kameng.evidence.stream-head"

EMPTY_HEAD = (0, "")


def head_of(stream: str) -> tuple[int, str]:
    """The (seq, hash) of the stream's last event; EMPTY_HEAD for a stream with none."""
    return (
        Event.objects.filter(stream=stream).order_by("-seq").values_list("seq", "hash").first() or EMPTY_HEAD
    )


def new_event(
    *,
    stream: str,
    kind: str,
    head: tuple[int, str],
    actor=None,
    actor_label: str = "",
    data: dict | None = None,
    clause: str = "",
    at: datetime | None = None,
) -> Event:
    """The event that follows `head` on `stream`, chained and hashed but not saved (for a caller
    that saves several with `save_events`). The caller holds the lock of the stream's owner row,
    which keeps `head` the head until it commits."""
    seq, prev = head
    event = Event(
        stream=stream,
        seq=seq + 1,
        kind=kind,
        actor=actor,
        actor_label=actor_label,
        data=data or {},
        clause=clause,
        created_at=at or timezone.now(),
        prev_hash=prev,
    )
    event.hash = event.compute_hash()
    return event


def seal(stream: str, seq: int, hash_: str) -> str:
    return salted_hmac(
        SEAL_SALT, f"{stream}\n{seq}\n{hash_}", secret=settings.EVIDENCE_KEY, algorithm="sha256"
    ).hexdigest()


def save_events(events: list[Event], *, batch_size: int | None = None) -> None:
    """Write events built by `new_event` (one statement) and move their streams' heads (one more)."""
    Event.objects.bulk_create(events, batch_size=batch_size)
    _anchor(events, batch_size=batch_size)


def _anchor(events: list[Event], *, batch_size: int | None = None) -> None:
    last: dict[str, Event] = {}
    for event in events:
        if event.stream not in last or event.seq > last[event.stream].seq:
            last[event.stream] = event
    now = timezone.now()
    StreamHead.objects.bulk_create(
        [
            StreamHead(
                stream=e.stream, seq=e.seq, hash=e.hash, seal=seal(e.stream, e.seq, e.hash), updated_at=now
            )
            for e in last.values()
        ],
        batch_size=batch_size,
        update_conflicts=True,
        unique_fields=["stream"],
        update_fields=["seq", "hash", "seal", "updated_at"],
    )


def append_event(
    *,
    stream: str,
    kind: str,
    actor=None,
    actor_label: str = "",
    data: dict | None = None,
    clause: str = "",
) -> Event:
    """Append one event to `stream`. The caller holds the lock of the stream's owner row."""
    event = new_event(
        stream=stream,
        kind=kind,
        head=head_of(stream),
        actor=actor,
        actor_label=actor_label,
        data=data,
        clause=clause,
    )
    event.save(force_insert=True)
    _anchor([event])
    return event


def verify_stream(stream: str) -> list[str]:
    """Problems found in one chain (empty when intact)."""
    return verify_events(
        Event.objects.filter(stream=stream).order_by("seq").iterator(),
        heads=heads(StreamHead.objects.filter(stream=stream)),
    )


def heads(queryset=None) -> dict[str, tuple[int, str, str]]:
    """{stream: (seq, hash, seal)} of the anchored heads (all of them unless a queryset is given)."""
    rows = (queryset if queryset is not None else StreamHead.objects.all()).values_list(
        "stream", "seq", "hash", "seal"
    )
    return {stream: (seq, hash_, seal_) for stream, seq, hash_, seal_ in rows.iterator(chunk_size=5000)}


def verify_events(
    events: Iterable[Event], *, heads: dict[str, tuple[int, str, str]] | None = None
) -> list[str]:
    """Problems found in the chains of `events`, given ordered by stream, then seq (empty when
    intact). Reads each event once, so a caller can stream every chain in one ordered query. With
    `heads` (from `heads()`), each chain's end is compared with its sealed head, and a head whose
    stream has no events left is reported too."""
    problems: list[str] = []
    unseen = dict(heads) if heads is not None else None
    stream, prev, expected, last = None, "", 1, None
    for ev in events:
        if ev.stream != stream:
            if unseen is not None and last is not None:
                problems += _compare_head(stream, last, unseen.pop(stream, None))
            stream, prev, expected = ev.stream, "", 1
        if ev.seq != expected:
            problems.append(f"{stream}: event #{expected} missing (found #{ev.seq})")
        if ev.prev_hash != prev:
            problems.append(f"{stream}#{ev.seq}: prev_hash does not match the event before")
        if ev.compute_hash() != ev.hash:
            problems.append(f"{stream}#{ev.seq}: content changed after it was written")
        prev, expected, last = ev.hash, ev.seq + 1, ev
    if unseen is not None:
        if last is not None:
            problems += _compare_head(stream, last, unseen.pop(stream, None))
        for gone in sorted(unseen):
            problems.append(f"{gone}: every event up to #{unseen[gone][0]} is missing")
    return problems


def _compare_head(stream: str, last: Event, head: tuple[int, str, str] | None) -> list[str]:
    if head is None:
        return [f"{stream}: no sealed head (events written behind the system's back?)"]
    seq, hash_, seal_ = head
    if not constant_time_compare(seal_, seal(stream, seq, hash_)):
        return [f"{stream}: the sealed head was changed"]
    if last.seq < seq:
        return [f"{stream}: events #{last.seq + 1}..#{seq} missing at the end"]
    if last.seq > seq:
        return [f"{stream}#{last.seq}: beyond the sealed head #{seq} (added behind the system's back)"]
    if last.hash != hash_:
        return [f"{stream}#{seq}: differs from the sealed head"]
    return []
