from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from kameng.wallet.models import Transaction
from kameng.wallet.services import check_ledger


class Command(BaseCommand):
    help = "Verify the ledger: every transaction balanced, no buyer/escrow/seller account below zero."

    def handle(self, *args, **options):
        try:
            problems = check_ledger()
        except DatabaseError as e:
            raise CommandError(f"ledger check failed: database not ready ({str(e).splitlines()[0]})") from e
        if problems:
            if options.get("verbosity", 1) > 1:  # -v 2 lists every problem; the last line says why
                for p in problems[1:]:
                    self.stderr.write(p)
            raise CommandError(f"ledger check failed: {len(problems)} problem(s), first: {problems[0]}")
        self.stdout.write(
            f"ledger OK: {Transaction.objects.count()} transactions balanced, no negative balance"
        )
