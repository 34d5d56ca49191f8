"""Two password-guessing limits from django-axes' records, where axes itself has one limit.

axes counts failures per lockout parameter (here: one username from one address, and the address
alone) and compares the largest count with one AXES_FAILURE_LIMIT. Password spraying (a few
guesses at each of many usernames) never reaches that limit for one username, and a limit low
enough to stop it at the address would lock out a family behind one router. So the address alone
has its own, higher limit, KAMENG_LOGIN_ADDRESS_FAILURES: get_failures reports "at the limit" when
either count reaches its own limit.
"""

from axes.handlers.database import AxesDatabaseHandler
from django.conf import settings
from django.db.models import Sum


def _total(attempts) -> int:
    return attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0


class PairAndAddressHandler(AxesDatabaseHandler):
    """Expects AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"], in that order."""

    def get_failures(self, request, credentials=None) -> int:
        pair, address = self.get_user_attempts(request, credentials)
        failures = _total(pair)
        if _total(address) >= settings.KAMENG_LOGIN_ADDRESS_FAILURES:
            return max(failures, settings.AXES_FAILURE_LIMIT)
        return failures

    def reset_user_attempts(self, request, credentials=None) -> int:
        # A right password proves that username, not that the address stopped guessing others:
        # forget only that pair's failures, or a sprayer with one real account resets its count.
        pair, _address = self.filter_user_attempts(request, credentials)
        count, _ = pair.delete()
        return count
