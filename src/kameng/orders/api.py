from datetime import datetime
from typing import Annotated

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status
from ninja.errors import HttpError
from pydantic import Field, StrictBool

from kameng.accounts.permissions import get_owned_or_404
from kameng.apitypes import MAX_ID, NO_NUL, json_int, paged, text
from kameng.catalog.models import Product
from kameng.catalog.services import MAX_PER_ORDER
from kameng.payments.models import PayMethod

from .models import Order
from .selectors import orders_with_facts
from .services import (
    OrderError,
    QuantityError,
    TermsError,
    cancel_order,
    confirm_received,
    deliver_custom_service,
    place_order,
    record_activation,
    reveal_card_keys,
    start_order_gateway_payment,
)

router = Router(tags=["orders"])
ERRORS = {400: dict, 401: dict, 403: dict, 404: dict, 422: dict}
# An order number in a path: bounded and NUL-free, so a fuzzed one is a 404/422, never a database error.
OrderNo = Annotated[str, Field(max_length=32, pattern=NO_NUL)]
ProductId = json_int(ge=1, le=MAX_ID)
# One rule for how many pieces an order holds: the product's max_per_order (每单限购), which a seller
# sets between 1 and MAX_PER_ORDER. The schema states the platform bound; above the product's own
# limit the service refuses with QuantityError, answered 422 like the schema's own refusals.
Quantity = Annotated[
    json_int(ge=1, le=MAX_PER_ORDER),
    Field(
        description=f"1 to the product's max_per_order (每单限购, see GET /api/products), "
        f"which is at most {MAX_PER_ORDER}; more is a 422 naming the product's limit."
    ),
]


class PaymentOut(Schema):
    out_trade_no: str
    method: str
    amount: int
    status: str
    paid_at: datetime | None
    credited_to_balance: bool


class AcceptedTermOut(Schema):
    number: int
    version: int
    title: str


class OrderOut(Schema):
    no: str
    product_id: int
    product: str
    kind: str
    seller: str
    quantity: int
    amount: int
    status: str
    # 已退款 / 部分退款 come from the ledger, not from `status` (which stays the delivery's):
    # "none" | "partly_refunded" | "refunded", and the status as people read it.
    refund_state: str
    status_display: str
    pay_method: str
    target_account: str
    created_at: datetime
    paid_at: datetime | None
    delivered_at: datetime | None
    delivery_status: str | None
    card_keys: int
    card_keys_viewed_at: datetime | None
    payments: list[PaymentOut]
    accepted_terms: list[AcceptedTermOut]

    @staticmethod
    def resolve_product(obj):
        return obj.product.name

    @staticmethod
    def resolve_seller(obj):
        return obj.seller.name

    @staticmethod
    def resolve_refund_state(obj):
        return obj.refund_state.value

    @staticmethod
    def resolve_status_display(obj):
        return obj.get_shown_status_display()

    @staticmethod
    def resolve_delivery_status(obj):
        d = getattr(obj, "delivery", None)
        return d.status if d else None

    @staticmethod
    def resolve_card_keys(obj):
        return len(obj.card_keys.all())

    @staticmethod
    def resolve_card_keys_viewed_at(obj):
        seen = [k.viewed_at for k in obj.card_keys.all() if k.viewed_at]
        return min(seen) if seen else None

    @staticmethod
    def resolve_payments(obj):
        return list(obj.payments.all())


class OrderIn(Schema):
    product_id: ProductId
    quantity: Quantity = 1
    pay_method: PayMethod = PayMethod.BALANCE
    target_account: str = text(80)
    accept_terms: StrictBool = Field(
        False,
        description="true: the buyer confirmed the refund terms of the product's kind (GET "
        "/api/catalog/products/{id}, refund_terms); without it the order is refused (422).",
    )


class PayOut(Schema):
    out_trade_no: str
    pay_url: str


class CardOut(Schema):
    card_no: str  # "" when the key is a password alone
    password: str


class KeysOut(Schema):
    card_keys: list[str]  # the passwords, as before two-column keys existed
    cards: list[CardOut]


class DeliverIn(Schema):
    note: str = text(5000)


class ActivateIn(Schema):
    account: str = text(80)


def _mine(request, no: OrderNo) -> Order:
    return get_owned_or_404(orders_with_facts(), user=request.user, no=no)


def _call(fn, **kwargs):
    try:
        return fn(**kwargs)
    except (QuantityError, TermsError) as e:
        raise HttpError(422, str(e)) from e
    except OrderError as e:
        raise HttpError(400, str(e)) from e


@router.get("", response={200: list[OrderOut], 401: dict, 422: dict})
@paged
def my_orders(request):
    """My orders, newest first, paged (`page`, `page_size`; see kameng.apitypes.paged)."""
    return orders_with_facts().filter(buyer=request.user)


@router.post("", response={201: OrderOut, **ERRORS})
def create_order(request, payload: OrderIn):
    product = get_object_or_404(Product, pk=payload.product_id)
    order = _call(
        place_order,
        buyer=request.user,
        product=product,
        quantity=payload.quantity,
        pay_method=payload.pay_method,
        target_account=payload.target_account,
        accept_terms=payload.accept_terms,
    )
    return Status(201, orders_with_facts().get(pk=order.pk))


@router.get("/{no}", response={200: OrderOut, **ERRORS})
def order_detail(request, no: OrderNo):
    return _mine(request, no)


@router.post("/{no}/pay", response={200: PayOut, **ERRORS})
def pay(request, no: OrderNo):
    order = get_object_or_404(Order, no=no, buyer=request.user)
    payment, url = _call(start_order_gateway_payment, order=order, user=request.user)
    return {"out_trade_no": payment.out_trade_no, "pay_url": request.build_absolute_uri(url)}


@router.post("/{no}/reveal", response={200: KeysOut, **ERRORS})
def reveal(request, no: OrderNo, response: HttpResponse):
    order = get_object_or_404(Order, no=no, buyer=request.user)
    response["Cache-Control"] = "no-store"  # secrets: never kept by a browser or proxy cache
    keys = _call(reveal_card_keys, order_id=order.pk, buyer=request.user)
    return {
        "card_keys": [k.secret for k in keys],
        "cards": [{"card_no": k.card_no, "password": k.secret} for k in keys],
    }


@router.post("/{no}/cancel", response={200: OrderOut, **ERRORS})
def cancel(request, no: OrderNo):
    order = get_object_or_404(Order, no=no, buyer=request.user)
    _call(cancel_order, order_id=order.pk, buyer=request.user)
    return _mine(request, no)


@router.post("/{no}/confirm", response={200: OrderOut, **ERRORS})
def confirm(request, no: OrderNo):
    order = get_object_or_404(Order, no=no, buyer=request.user)
    _call(confirm_received, order_id=order.pk, buyer=request.user)
    return _mine(request, no)


@router.post("/{no}/deliver", response={200: OrderOut, **ERRORS})
def deliver(request, no: OrderNo, payload: DeliverIn):
    order = get_object_or_404(Order, no=no, seller__owner=request.user)
    _call(deliver_custom_service, order_id=order.pk, seller_user=request.user, note=payload.note)
    return orders_with_facts().get(pk=order.pk)


@router.post("/{no}/activate", response={200: OrderOut, **ERRORS})
def activate(request, no: OrderNo, payload: ActivateIn):
    order = get_object_or_404(Order, no=no, seller__owner=request.user)
    _call(record_activation, order_id=order.pk, account=payload.account, actor=request.user)
    return orders_with_facts().get(pk=order.pk)
