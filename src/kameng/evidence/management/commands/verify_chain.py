from django.core.management.base import BaseCommand, CommandError

from kameng.evidence.checks import CHUNK, Counted, run_check
from kameng.evidence.models import Event, StreamHead
from kameng.evidence.services import heads, verify_events


class Command(BaseCommand):
    help = "Verify the hash chain of every event stream against its sealed head (or one: --stream case:12)."

    def add_arguments(self, parser):
        parser.add_argument("--stream", default="")

    def handle(self, *args, stream="", **options):
        if stream:
            counted = Counted(Event.objects.filter(stream=stream).order_by("seq").iterator(chunk_size=CHUNK))
            problems = verify_events(counted, heads=heads(StreamHead.objects.filter(stream=stream)))
            if not counted.total and not problems:
                raise CommandError(f"no events in stream {stream}")
            events, streams = counted.total, counted.streams
        else:
            check, problems = run_check(requested_by="verify_chain")
            events, streams = check.events, check.streams
        if problems:
            if options.get("verbosity", 1) > 1:
                for p in problems[1:]:
                    self.stderr.write(p)
            raise CommandError(f"event chain broken: {len(problems)} problem(s), first: {problems[0]}")
        self.stdout.write(f"chain OK: {events} events in {streams} streams")
