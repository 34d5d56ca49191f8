from django.core.management.base import BaseCommand, CommandError

from kameng.wallet.models import Transaction
from kameng.wallet.services import check_ledger


class Command(BaseCommand):
    help = "Verify the ledger: every transaction balanced, no buyer/escrow/seller account below zero."

    def handle(self, *args, **options):
        problems = check_ledger()
        if problems:
            for p in problems[1:]:
                self.stderr.write(p)
            raise CommandError(f"ledger check failed: {len(problems)} problem(s), first: {problems[0]}")
        self.stdout.write(
            f"ledger OK: {Transaction.objects.count()} transactions balanced, no negative balance"
        )
