from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from kameng.accounts.models import User
from kameng.ops.demo import PASSWORD, load_demo


class Command(BaseCommand):
    help = "Load the demo shop (sellers, products of every kind, buyers, orders in every state) and print the logins."

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true", help="do nothing when users already exist")

    def handle(self, *args, if_empty=False, **options):
        if User.objects.exists():
            if if_empty:
                self.stdout.write("demo data already loaded; logins (password %s):" % PASSWORD)
                from kameng.ops.demo import LOGINS

                self._print(LOGINS)
                return
            raise CommandError("database is not empty: demo data not loaded (use a fresh database)")
        if not settings.SANDBOX:
            # The demo's orders and top-ups are paid through the sandbox gateway.
            raise CommandError("the demo needs the sandbox: run it with KAMENG_SANDBOX=1 (make run does)")
        self._print(load_demo())

    def _print(self, logins):
        self.stdout.write(f"demo logins (password for all: {PASSWORD}):")
        for username, who, what in logins:
            self.stdout.write(f"  {username:<14} {who:<22} {what}")
