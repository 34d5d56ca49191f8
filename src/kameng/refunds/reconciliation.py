"""Reconciliation: every payout next to its ledger transaction and its gateway refund (read only).

Used by the finance API (`GET /api/refunds/reconciliation`) and `manage.py reconcile_refunds`.
"""

from dataclasses import dataclass
from datetime import datetime

from kameng.payments.models import GatewayRefund
from kameng.wallet.models import Transaction

from .models import Payout, RefundTo


@dataclass(frozen=True)
class PayoutLine:
    payout_id: int
    case_id: int
    order_no: str
    amount: int
    method: str
    status: str
    ledger_key: str | None
    gateway_status: str | None
    gateway_refund_no: str
    created_at: datetime
    completed_at: datetime | None

    @property
    def problems(self) -> list[str]:
        found = []
        if self.ledger_key is None:
            found.append("no ledger transaction")
        if (
            self.method == RefundTo.ORIGINAL
            and self.status == Payout.Status.SUCCEEDED
            and self.gateway_status != GatewayRefund.Status.SUCCEEDED
        ):
            found.append("succeeded without a succeeded gateway refund")
        return found


def payout_lines() -> list[PayoutLine]:
    payouts = list(
        Payout.objects.select_related("case__order", "gateway_refund").order_by("created_at", "id")
    )
    # Payout keys are "refund:<case>:<n>"; one prefix query avoids a huge IN list.
    keys = set(Transaction.objects.filter(key__startswith="refund:").values_list("key", flat=True))
    return [
        PayoutLine(
            payout_id=p.pk,
            case_id=p.case_id,
            order_no=p.case.order.no,
            amount=p.amount,
            method=p.method,
            status=p.status,
            ledger_key=p.key if p.key in keys else None,
            gateway_status=p.gateway_refund.status if p.gateway_refund_id else None,
            gateway_refund_no=p.gateway_refund.gateway_refund_no if p.gateway_refund_id else "",
            created_at=p.created_at,
            completed_at=p.completed_at,
        )
        for p in payouts
    ]
