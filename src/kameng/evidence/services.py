"""The append-only event log: one hash chain per stream ("order:<id>", "case:<id>")."""

from collections.abc import Iterable
from datetime import datetime

from django.utils import timezone

from .models import Event

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


def save_events(events: list[Event]) -> None:
    """Write events built by `new_event`, in one statement."""
    Event.objects.bulk_create(events)


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
    return event


def verify_stream(stream: str) -> list[str]:
    """Problems found in one chain (empty when intact)."""
    return verify_events(Event.objects.filter(stream=stream).order_by("seq").iterator())


def verify_events(events: Iterable[Event]) -> list[str]:
    """Problems found in the chains of `events`, given ordered by stream, then seq (empty when
    intact). Reads each event once, so a caller can stream every chain in one ordered query."""
    problems: list[str] = []
    stream, prev, expected = None, "", 1
    for ev in events:
        if ev.stream != stream:
            stream, prev, expected = ev.stream, "", 1
        if ev.seq != expected:
            problems.append(f"{stream}: event #{expected} missing (found #{ev.seq})")
        if ev.prev_hash != prev:
            problems.append(f"{stream}#{ev.seq}: prev_hash does not match the event before")
        if ev.compute_hash() != ev.hash:
            problems.append(f"{stream}#{ev.seq}: content changed after it was written")
        prev, expected = ev.hash, ev.seq + 1
    return problems
