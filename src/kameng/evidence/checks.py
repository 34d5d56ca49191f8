"""The full chain check, as the command, the staff page's button and the daily tick run it: every
stream in one ordered, streamed query, compared with the sealed heads, and the result kept
(ChainCheck) for the staff page."""

from django.utils import timezone

from .models import ChainCheck, Event
from .services import heads, verify_events

# Rows fetched per round trip. Every chain is read in one ordered query over the (stream, seq)
# unique index, streamed in chunks (a server-side cursor on PostgreSQL): the statement count does
# not grow with the number of streams, and memory holds one chunk.
CHUNK = 2000
# The page shows this many problems; the command prints them all with -v 2.
KEPT_PROBLEMS = 200


class Counted:
    """The events passing through, counted (events, streams) on the way."""

    def __init__(self, events):
        self.events, self.total, self.streams, self.last = events, 0, 0, None

    def __iter__(self):
        for ev in self.events:
            self.total += 1
            if ev.stream != self.last:
                self.streams, self.last = self.streams + 1, ev.stream
            yield ev


def run_check(*, requested_by: str = "") -> tuple[ChainCheck, list[str]]:
    """Check every stream; returns the recorded check and the full list of problems."""
    check = ChainCheck.objects.create(started_at=timezone.now(), requested_by=requested_by[:60])
    counted = Counted(Event.objects.order_by("stream", "seq").iterator(chunk_size=CHUNK))
    problems = verify_events(counted, heads=heads())
    check.events, check.streams = counted.total, counted.streams
    check.problems, check.finished_at = problems[:KEPT_PROBLEMS], timezone.now()
    check.save(update_fields=["events", "streams", "problems", "finished_at"])
    return check, problems
