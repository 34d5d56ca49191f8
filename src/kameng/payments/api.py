from ninja import Router, Schema
from ninja.errors import HttpError
from pydantic import Field

from kameng.apitypes import json_int

from .services import MAX_TOPUP, MIN_TOPUP, PaymentError, start_topup

# Mounted under /api/wallet next to the wallet's own router: the top-up door did not move.
router = Router(tags=["wallet"])


class TopupIn(Schema):
    # The service's limits, said in the schema: ¥1 to ¥5000.
    amount: json_int(ge=MIN_TOPUP, le=MAX_TOPUP) = Field(..., description="分")


class TopupOut(Schema):
    out_trade_no: str
    pay_url: str


@router.post("/topups", response={200: TopupOut, 400: dict, 401: dict, 422: dict})
def topup(request, payload: TopupIn):
    try:
        payment, url = start_topup(user=request.user, amount=payload.amount)
    except PaymentError as e:
        raise HttpError(400, str(e)) from e
    return {"out_trade_no": payment.out_trade_no, "pay_url": request.build_absolute_uri(url)}
