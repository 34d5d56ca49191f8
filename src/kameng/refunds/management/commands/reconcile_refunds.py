"""manage.py reconcile_refunds: every payout against the ledger and the gateway; non-zero on a gap."""

from django.core.management.base import BaseCommand, CommandError

from kameng.refunds.reconciliation import payout_lines


class Command(BaseCommand):
    help = "List every refund payout with its ledger transaction and gateway refund; exit 1 on a mismatch."

    def handle(self, *args, **options):
        lines = payout_lines()
        bad = []
        total = 0
        for line in lines:
            total += line.amount
            self.stdout.write(
                f"case={line.case_id} order={line.order_no} amount={line.amount} method={line.method} "
                f"status={line.status} ledger={line.ledger_key or 'MISSING'} gateway={line.gateway_status or '-'}"
            )
            if line.problems:
                bad.append(line)
        self.stdout.write(f"payouts={len(lines)} amount={total} problems={len(bad)}")
        if bad:
            first = bad[0]
            raise CommandError(
                f"{len(bad)} payout(s) do not reconcile; first: case {first.case_id} "
                f"payout {first.payout_id}: {', '.join(first.problems)}"
            )
