from typing import Annotated

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from ninja.errors import HttpError
from pydantic import Field

from kameng.apitypes import MAX_ID, NO_NUL

from .models import GoodsKind, Product
from .selectors import listed_products
from .services import CatalogError, import_card_keys

router = Router(tags=["catalog"])


class ProductOut(Schema):
    id: int
    name: str
    kind: str
    seller: str
    price: int
    face_value: int
    available: int | None
    promise: str

    @staticmethod
    def resolve_seller(obj):
        return obj.seller.name

    @staticmethod
    def resolve_available(obj):
        return obj.free_keys if obj.kind == "card_key" else obj.stock


ProductId = Annotated[int, Field(ge=1, le=MAX_ID)]


class KeysIn(Schema):
    text: str = Field(..., max_length=2_000_000, pattern=NO_NUL)


class ImportOut(Schema):
    added: int
    blank_lines: int
    duplicates_in_file: list[int]
    already_in_stock: list[int]
    invalid: list[int]


@router.get("/products", response={200: list[ProductOut], 422: dict}, auth=None)
def products(request, kind: GoodsKind | None = None):
    qs = listed_products()
    if kind:
        qs = qs.filter(kind=kind)
    return list(qs[:500])


@router.get("/products/{product_id}", response={200: ProductOut, 404: dict, 422: dict}, auth=None)
def product(request, product_id: ProductId):
    return get_object_or_404(listed_products(), pk=product_id)


@router.post(
    "/products/{product_id}/keys",
    response={200: ImportOut, 400: dict, 401: dict, 403: dict, 404: dict, 422: dict},
)
def import_keys(request, product_id: ProductId, payload: KeysIn):
    product = get_object_or_404(Product, pk=product_id, seller__owner=request.user)
    try:
        report = import_card_keys(product=product, data=payload.text, actor=request.user)
    except CatalogError as e:
        raise HttpError(400, str(e)) from e
    if report.problems:
        return Status(422, {"detail": _("未导入任何卡密"), **report.__dict__})
    return report
