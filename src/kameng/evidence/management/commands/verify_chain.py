from django.core.management.base import BaseCommand, CommandError

from kameng.evidence.models import Event
from kameng.evidence.services import verify_stream


class Command(BaseCommand):
    help = "Verify the hash chain of every event stream (or one: --stream case:12)."

    def add_arguments(self, parser):
        parser.add_argument("--stream", default="")

    def handle(self, *args, stream="", **options):
        streams = (
            [stream] if stream else list(Event.objects.values_list("stream", flat=True).distinct().order_by())
        )
        if stream and not Event.objects.filter(stream=stream).exists():
            raise CommandError(f"no events in stream {stream}")
        problems = []
        for name in streams:
            problems.extend(verify_stream(name))
        if problems:
            if options.get("verbosity", 1) > 1:
                for p in problems[1:]:
                    self.stderr.write(p)
            raise CommandError(f"event chain broken: {len(problems)} problem(s), first: {problems[0]}")
        total = Event.objects.filter(stream__in=streams).count() if stream else Event.objects.count()
        self.stdout.write(f"chain OK: {total} events in {len(streams)} streams")
