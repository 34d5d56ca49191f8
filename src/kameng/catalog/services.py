"""Sellers and their goods. Each public function is one transaction.

Card keys are stock, kept by kameng.inventory; importing them into a product goes through here,
because the product is what decides whether it takes keys, and its row owns the product's events.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kameng.evidence.services import append_event
from kameng.inventory import services as inventory
from kameng.inventory.services import ImportReport

from .models import GoodsKind, Product, Seller

MAX_PRICE = 100_000_00  # 分: ¥100000, for the price and the face value
MAX_PER_ORDER = 100

# What a seller may set on a product (the rest is the system's: its seller, its creation time).
PRODUCT_FIELDS = (
    "kind",
    "name",
    "description",
    "price",
    "face_value",
    "stock",
    "max_per_order",
    "promise",
    "duration_days",
    "is_active",
)


class CatalogError(Exception):
    """A request the catalog refuses; the message is for the user, in their language. `errors` maps
    each product field that was refused to what is wrong with it ("__all__": the product as a whole)."""

    def __init__(self, message: str, errors: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.errors = errors or {}


class ProductNotFound(CatalogError):
    """No such product among the seller's own (another shop's product is not there, to them)."""


@transaction.atomic
def create_seller(
    *, name: str, owner=None, is_platform: bool = False, contact_phone: str = "", address: str = ""
) -> Seller:
    seller = Seller(
        name=name, owner=owner, is_platform=is_platform, contact_phone=contact_phone, address=address
    )
    try:
        seller.full_clean()
    except ValidationError as e:
        raise _refused(Seller, e.message_dict) from e
    seller.save()
    return seller


@transaction.atomic
def create_product(*, seller: Seller, **fields) -> Product:
    """A new product of `seller` (the caller has checked that its user runs that shop). `fields`:
    any of PRODUCT_FIELDS; money in 分. Refused whole, nothing saved, with CatalogError."""
    _only_product_fields(fields)
    product = Product(seller=seller, **fields)
    _check(product)
    product.save()
    return product


@transaction.atomic
def update_product(*, product_id: int, seller: Seller, **changes) -> Product:
    """Change a product of `seller`'s own; another shop's product is refused as not found. `changes`:
    any of PRODUCT_FIELDS. Refused whole, nothing saved, with CatalogError."""
    _only_product_fields(changes)
    product = Product.objects.select_for_update().filter(pk=product_id, seller=seller).first()
    if product is None:
        raise ProductNotFound(_("商品不存在。"))
    for name, value in changes.items():
        setattr(product, name, value)
    _check(product)
    product.save()
    return product


def _only_product_fields(fields: dict) -> None:
    unknown = set(fields) - set(PRODUCT_FIELDS)
    if unknown:  # a programming error, not a user's
        raise TypeError(f"not product fields: {', '.join(sorted(unknown))}")


def _check(product: Product) -> None:
    """The rules a form or the API may state too, checked here once more, whoever calls."""
    errors: dict[str, list[str]] = {}
    if _is_int(product.price) and not 0 < product.price <= MAX_PRICE:
        errors["price"] = [_("售价须在 0.01 元到 %(max)d 元之间。") % {"max": MAX_PRICE // 100}]
    if _is_int(product.face_value) and not 0 <= product.face_value <= MAX_PRICE:
        errors["face_value"] = [_("面值须在 0 元到 %(max)d 元之间。") % {"max": MAX_PRICE // 100}]
    if _is_int(product.max_per_order) and not 1 <= product.max_per_order <= MAX_PER_ORDER:
        errors["max_per_order"] = [_("每单限购须在 1 到 %(n)d 件之间。") % {"n": MAX_PER_ORDER}]
    if not errors:
        try:
            product.full_clean()  # types, lengths, choices, and Product.clean() (no kind change once sold)
        except ValidationError as e:
            errors = e.message_dict
    if errors:
        raise _refused(Product, errors)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _refused(model, errors: dict[str, list[str]]) -> CatalogError:
    parts = []
    for name, messages in errors.items():
        text = "；".join(messages)
        if name == "__all__":
            parts.append(text)
        else:
            parts.append(f"{model._meta.get_field(name).verbose_name}：{text}")
    return CatalogError("；".join(parts), errors)


# --- card keys -----------------------------------------------------------------------------------


def _card_key_product(product: Product) -> None:
    if product.kind != GoodsKind.CARD_KEY:
        raise CatalogError(_("只有卡密类商品可以导入卡密。"))


@transaction.atomic
def import_card_keys(
    *, product: Product, data: bytes | str, actor, batch: str = "", has_header: bool = False
) -> ImportReport:
    """Import card keys into a card-key product's stock, all or nothing: any duplicate or malformed
    line imports nothing and is reported (kameng.inventory does the parsing and the storing)."""
    _card_key_product(product)
    # The product row is the owner of the "product:<id>" event stream: two imports take turns.
    Product.objects.select_for_update().filter(pk=product.pk).first()
    batch = batch or timezone.localtime().strftime("%Y%m%d%H%M%S")
    try:
        report = inventory.add_card_keys(product_id=product.pk, data=data, batch=batch, has_header=has_header)
    except inventory.InventoryError as e:
        raise CatalogError(str(e)) from e
    if report.added:
        append_event(
            stream=f"product:{product.pk}",
            kind="card_keys_imported",
            actor=actor,
            data={"count": report.added, "batch": batch},
        )
    return report


def preview_card_keys(*, product: Product, data: bytes | str, has_header: bool = False) -> ImportReport:
    """What importing the file would do (masked preview, counts, problems); writes nothing."""
    _card_key_product(product)
    try:
        report, _rows = inventory.check_card_keys(product_id=product.pk, data=data, has_header=has_header)
    except inventory.InventoryError as e:
        raise CatalogError(str(e)) from e
    return report


def stage_card_keys(*, product: Product, data: bytes | str, actor, has_header: bool = False):
    """Preview a file and keep it (encrypted, short-lived) for its seller to confirm: (report, draft
    id or None when the file has problems)."""
    _card_key_product(product)
    try:
        report, draft = inventory.stage_card_keys(
            product_id=product.pk, owner_id=actor.pk, data=data, has_header=has_header
        )
    except inventory.InventoryError as e:
        raise CatalogError(str(e)) from e
    return report, (draft.pk if draft else None)


@transaction.atomic
def confirm_card_keys(*, product: Product, draft_id, actor) -> ImportReport:
    """Import exactly the file the seller previewed: only the seller who staged it, for this product,
    before it expires, and once."""
    _card_key_product(product)
    try:
        text, has_header = inventory.take_draft(draft_id=draft_id, product_id=product.pk, owner_id=actor.pk)
    except inventory.InventoryError as e:
        raise CatalogError(str(e)) from e
    report = import_card_keys(product=product, data=text, actor=actor, has_header=has_header)
    if report.problems:
        # Stock changed since the preview (another import): nothing imported; the seller starts again.
        raise CatalogError(_("预览之后库存已变化（部分卡密已在库存中），未导入任何卡密，请重新上传。"))
    return report
