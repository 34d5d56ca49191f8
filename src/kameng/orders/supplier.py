"""Supplier adapter for direct top-ups (and, later, card-key redemption queries).

The sandbox supplier answers like real upstreams do: success, failed, or "unknown" (accepted, result
not known yet, to be asked again). Which one is decided by the target account so a person can try
each path by hand: an account containing "fail" fails, one containing "unknown" stays unknown until
`SandboxSupplier.settle` is called (what the upstream eventually answers).
"""

import logging
import secrets

from django.conf import settings
from django.db import transaction

log = logging.getLogger(__name__)


class SupplierError(Exception):
    pass


class Supplier:
    def topup(self, *, account: str, amount: int) -> tuple[str, str]:
        """Returns (supplier reference, result) with result in success|failed|unknown."""
        raise NotImplementedError

    def query(self, ref: str) -> str:
        raise NotImplementedError


class SandboxSupplier(Supplier):
    def topup(self, *, account: str, amount: int) -> tuple[str, str]:
        from .models import SupplierTopup

        lowered = account.lower()
        result = "failed" if "fail" in lowered else "unknown" if "unknown" in lowered else "success"
        ref = "S" + secrets.token_hex(8)
        SupplierTopup.objects.create(ref=ref, account=account, amount=amount, result=result)
        return ref, result

    def query(self, ref: str) -> str:
        from .models import SupplierTopup

        row = SupplierTopup.objects.filter(ref=ref).first()
        return row.result if row else "failed"

    def settle(self, ref: str, result: str) -> None:
        """The upstream finally decides an "unknown" top-up (sandbox control)."""
        from .models import SupplierTopup

        with transaction.atomic():
            SupplierTopup.objects.filter(ref=ref).update(result=result)


class UnconfiguredSupplier(Supplier):
    """No upstream is connected (KAMENG_SANDBOX off and no real supplier yet): nothing is ever
    reported delivered. A top-up stays "unknown" for a person to settle, never a made-up success."""

    def topup(self, *, account: str, amount: int) -> tuple[str, str]:
        log.warning("direct top-up left unknown: no supplier is configured (KAMENG_SANDBOX is off)")
        return "", "unknown"

    def query(self, ref: str) -> str:
        return "unknown"


supplier = SandboxSupplier()
unconfigured = UnconfiguredSupplier()


def get_supplier() -> Supplier:
    """The supplier of this deployment: the sandbox only with KAMENG_SANDBOX on."""
    return supplier if settings.SANDBOX else unconfigured


def card_key_redemption(secret: str) -> str:
    """Ask the key's supplier: "redeemed", "not_redeemed", "bad_batch" or "unknown".

    Sandbox rule (so every path can be tried by hand): a key containing "USED" was redeemed, one
    containing "BAD" belongs to a batch the supplier confirms is bad, "WAIT" gets no answer yet.
    Without the sandbox no supplier is connected, so there is no answer: "unknown".
    """
    if not settings.SANDBOX:
        return "unknown"
    upper = secret.upper()
    if "USED" in upper:
        return "redeemed"
    if "BAD" in upper:
        return "bad_batch"
    if "WAIT" in upper:
        return "unknown"
    return "not_redeemed"
