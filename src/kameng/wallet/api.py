from datetime import datetime

from ninja import Router, Schema
from ninja.errors import HttpError
from pydantic import Field

from kameng.apitypes import json_int
from kameng.orders.services import MAX_TOPUP, OrderError, start_topup

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


class TopupIn(Schema):
    # The service's limits, said in the schema: ¥1 to ¥5000.
    amount: json_int(ge=100, le=MAX_TOPUP) = Field(..., description="分")


class TopupOut(Schema):
    out_trade_no: str
    pay_url: str


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


@router.post("/topups", response={200: TopupOut, 400: dict, 401: dict, 422: dict})
def topup(request, payload: TopupIn):
    try:
        payment, url = start_topup(user=request.user, amount=payload.amount)
    except OrderError as e:
        raise HttpError(400, str(e)) from e
    return {"out_trade_no": payment.out_trade_no, "pay_url": request.build_absolute_uri(url)}
