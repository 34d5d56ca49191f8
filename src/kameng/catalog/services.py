"""Sellers and their goods. Each public function is one transaction.

Card keys are stock, kept by kameng.inventory; importing them into a product goes through here,
because the product is what decides whether it takes keys, and its row owns the product's events.
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kameng.evidence.services import append_event
from kameng.inventory import services as inventory
from kameng.inventory.services import ImportReport

from .models import GoodsKind, Product


class CatalogError(Exception):
    """A request the catalog refuses; the message is for the user, in their language."""


# --- card keys -----------------------------------------------------------------------------------


@transaction.atomic
def import_card_keys(*, product: Product, data: bytes | str, actor, batch: str = "") -> ImportReport:
    """Import card keys into a card-key product's stock, all or nothing: any duplicate or malformed
    line imports nothing and is reported (kameng.inventory does the parsing and the storing)."""
    if product.kind != GoodsKind.CARD_KEY:
        raise CatalogError(_("只有卡密类商品可以导入卡密。"))
    # The product row is the owner of the "product:<id>" event stream: two imports take turns.
    Product.objects.select_for_update().filter(pk=product.pk).first()
    batch = batch or timezone.localtime().strftime("%Y%m%d%H%M%S")
    try:
        report = inventory.add_card_keys(product_id=product.pk, data=data, batch=batch)
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
