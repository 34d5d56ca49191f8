from datetime import datetime

from ninja import Router, Schema

from .selectors import buyer_history
from .services import buyer_balance

router = Router(tags=["wallet"])


class EntryOut(Schema):
    at: datetime
    kind: str
    amount: int
    reference: str


class WalletOut(Schema):
    balance: int
    history: list[EntryOut]


@router.get("", response={200: WalletOut, 401: dict})
def wallet(request):
    return {
        "balance": buyer_balance(request.user),
        "history": [
            {
                "at": p.transaction.created_at,
                "kind": p.transaction.kind,
                "amount": p.amount,
                "reference": p.transaction.reference,
            }
            for p in buyer_history(request.user)
        ],
    }
