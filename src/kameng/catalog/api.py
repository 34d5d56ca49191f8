from typing import Annotated

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import PatchDict, Router, Schema, Status
from ninja.errors import HttpError
from pydantic import Field, StrictBool

from kameng.accounts.models import Role
from kameng.accounts.permissions import is_staff_member, require_role
from kameng.apitypes import MAX_ID, NO_NUL, json_int, paged, text
from kameng.inventory.selectors import stock_by_batch

from .hooks import refund_terms
from .models import GoodsKind, Product, Seller
from .selectors import listed_products, seller_of
from .services import (
    MAX_PER_ORDER,
    MAX_PRICE,
    CatalogError,
    ProductNotFound,
    create_product,
    import_card_keys,
    preview_card_keys,
    update_product,
)

router = Router(tags=["catalog"])


class RefundTermOut(Schema):
    number: int
    version: int
    title: str
    body: str


class ProductOut(Schema):
    id: int
    name: str
    kind: str
    seller: str
    price: int
    face_value: int
    available: int | None
    promise: str
    # The refund clauses a buyer confirms by ordering (POST /api/orders with accept_terms: true).
    refund_terms: list[RefundTermOut]

    @staticmethod
    def resolve_refund_terms(obj):
        return refund_terms(obj.kind)

    @staticmethod
    def resolve_seller(obj):
        return obj.seller.name

    @staticmethod
    def resolve_available(obj):
        return obj.free_keys if obj.kind == "card_key" else obj.stock


ProductId = Annotated[int, Field(ge=1, le=MAX_ID)]


class KeysIn(Schema):
    """One key per line: a password alone, or card number and password separated by a comma, a tab
    or "----". A header row is skipped when detected or declared (`has_header`). `dry_run` checks
    and previews (masked) without importing; import the same text without it to commit."""

    text: str = Field(..., max_length=2_000_000, pattern=NO_NUL)
    has_header: StrictBool = False
    dry_run: StrictBool = False


class PreviewRow(Schema):
    line: int
    card_no: str  # masked: first 4 and last 2 characters at most; "" for a password alone
    password: str  # masked likewise


class ImportOut(Schema):
    added: int
    dry_run: bool
    to_add: int
    two_column: int
    blank_lines: int
    header_line: int | None
    duplicates_in_file: list[int]
    already_in_stock: list[int]
    invalid: list[int]
    preview: list[PreviewRow]


class BatchStock(Schema):
    batch: str
    on_sale: int
    sold: int
    revoked: int
    redeemed: int
    quarantined: int
    total: int


class ProductStock(Schema):
    product_id: int
    name: str
    batches: list[BatchStock]


@router.get("/products", response={200: list[ProductOut], 422: dict}, auth=None)
@paged
def products(request, kind: GoodsKind | None = None):
    """Products on sale, paged (`page`, `page_size`; see kameng.apitypes.paged)."""
    qs = listed_products()
    if kind:
        qs = qs.filter(kind=kind)
    return qs


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
        if payload.dry_run:
            report = preview_card_keys(product=product, data=payload.text, has_header=payload.has_header)
        else:
            report = import_card_keys(
                product=product, data=payload.text, actor=request.user, has_header=payload.has_header
            )
    except CatalogError as e:
        raise HttpError(400, str(e)) from e
    body = _import_out(report, dry_run=payload.dry_run)
    if report.problems:
        return Status(422, {"detail": _("未导入任何卡密"), **body})
    return body


def _import_out(report, *, dry_run: bool) -> dict:
    return {
        "added": report.added,
        "dry_run": dry_run,
        "to_add": report.to_add,
        "two_column": report.two_column,
        "blank_lines": report.blank_lines,
        "header_line": report.header_line,
        "duplicates_in_file": report.duplicates_in_file,
        "already_in_stock": report.already_in_stock,
        "invalid": report.invalid,
        "preview": [{"line": n, "card_no": c, "password": p} for n, c, p in report.preview],
    }


@router.get("/stock", response={200: list[ProductStock], 401: dict, 403: dict})
def stock(request):
    """Card-key counts by product and batch: the caller's own products (staff: all). Never a key."""
    products = Product.objects.filter(kind=GoodsKind.CARD_KEY).order_by("id")
    if not is_staff_member(request.user):
        products = products.filter(seller=_my_shop(request))
    products = list(products[:500])
    batches: dict[int, list] = {p.pk: [] for p in products}
    for row in stock_by_batch(list(batches)):
        batches[row["product_id"]].append(row)
    return [{"product_id": p.pk, "name": p.name, "batches": batches[p.pk]} for p in products]


# --- the seller's own products ------------------------------------------------------------------

Money = json_int(ge=0, le=MAX_PRICE)
Whole = json_int(ge=0, le=2_147_483_647)  # a PositiveIntegerField's range on every database
ERRORS = {400: dict, 401: dict, 403: dict, 404: dict, 422: dict}


class ProductIn(Schema):
    """A product as its seller writes it; money in 分. The catalog's own rules (a price above 0, a
    kind that no longer changes once keys or orders exist) answer 400 with the reason."""

    kind: GoodsKind
    name: str = text(120, default=...)
    description: str = text(5000)
    price: Money
    face_value: Money = 0
    stock: Whole | None = None
    max_per_order: json_int(ge=1, le=MAX_PER_ORDER) = 5
    promise: str = text(200)
    duration_days: Whole | None = None
    is_active: StrictBool = True


class SellerProductOut(Schema):
    id: int
    kind: str
    name: str
    description: str
    price: int
    face_value: int
    stock: int | None
    max_per_order: int
    promise: str
    duration_days: int | None
    is_active: bool


def _my_shop(request) -> Seller:
    require_role(request.user, Role.SELLER)
    seller = seller_of(request.user)
    if seller is None:
        raise PermissionDenied
    return seller


def _refused(e: CatalogError):
    return Status(400, {"detail": str(e), "errors": e.errors})


@router.post("/products", response={201: SellerProductOut, **ERRORS})
def new_product(request, payload: ProductIn):
    seller = _my_shop(request)
    try:
        product = create_product(seller=seller, **payload.model_dump())
    except CatalogError as e:
        return _refused(e)
    return Status(201, product)


@router.patch("/products/{product_id}", response={200: SellerProductOut, **ERRORS})
def change_product(request, product_id: ProductId, payload: PatchDict[ProductIn]):
    seller = _my_shop(request)
    try:
        return update_product(product_id=product_id, seller=seller, **payload)
    except ProductNotFound as e:
        raise Http404 from e
    except CatalogError as e:
        return _refused(e)
