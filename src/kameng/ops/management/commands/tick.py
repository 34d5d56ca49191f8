import time

from django.core.management.base import BaseCommand

from kameng.ops.tick import tick


class Command(BaseCommand):
    help = "Run the periodic tick once (or forever with --loop): expiries, gateway re-sends, deadlines."

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true")
        parser.add_argument("--interval", type=float, default=5.0)

    def handle(self, *args, loop=False, interval=5.0, **options):
        while True:
            result = tick()
            if not loop:
                self.stdout.write(" ".join(f"{k}={v}" for k, v in result.items()))
                return
            time.sleep(interval)
