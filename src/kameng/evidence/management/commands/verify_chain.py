from django.core.management.base import BaseCommand, CommandError

from kameng.evidence.models import Event
from kameng.evidence.services import verify_events

# Rows fetched per round trip. Every chain is read in one ordered query over the (stream, seq)
# unique index, streamed in chunks (a server-side cursor on PostgreSQL): the statement count does
# not grow with the number of streams, and memory holds one chunk.
CHUNK = 2000


class Counted:
    """The events passing through, counted (events, streams) on the way."""

    def __init__(self, events):
        self.events, self.total, self.streams, self._last = events, 0, 0, None

    def __iter__(self):
        for ev in self.events:
            self.total += 1
            if ev.stream != self._last:
                self.streams, self._last = self.streams + 1, ev.stream
            yield ev


class Command(BaseCommand):
    help = "Verify the hash chain of every event stream (or one: --stream case:12)."

    def add_arguments(self, parser):
        parser.add_argument("--stream", default="")

    def handle(self, *args, stream="", **options):
        events = Event.objects.order_by("stream", "seq")
        if stream:
            events = events.filter(stream=stream)
        counted = Counted(events.iterator(chunk_size=CHUNK))
        problems = verify_events(counted)
        if stream and not counted.total:
            raise CommandError(f"no events in stream {stream}")
        if problems:
            if options.get("verbosity", 1) > 1:
                for p in problems[1:]:
                    self.stderr.write(p)
            raise CommandError(f"event chain broken: {len(problems)} problem(s), first: {problems[0]}")
        self.stdout.write(f"chain OK: {counted.total} events in {counted.streams} streams")
