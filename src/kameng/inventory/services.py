"""Card-key stock: import (all or nothing), taking keys for an order, revealing them to its buyer.

Nothing here knows what a product or an order is beyond its id: the callers (catalog for imports,
orders for delivery) hold the row lock of the product or order they pass in.
"""

import csv
import re
from dataclasses import dataclass, field

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import secrets as keyvault
from .models import CardKey, CardKeyStatus
from .signals import card_keys_added

MAX_KEY_LENGTH = 200
MAX_KEYS_PER_IMPORT = 5000


class InventoryError(Exception):
    """A request the stock refuses; the message is for the user, in their language."""


# --- import ------------------------------------------------------------------------------------


@dataclass
class ImportReport:
    added: int = 0
    blank_lines: int = 0
    duplicates_in_file: list[int] = field(default_factory=list)  # line numbers
    already_in_stock: list[int] = field(default_factory=list)
    invalid: list[int] = field(default_factory=list)

    @property
    def problems(self) -> bool:
        return bool(self.duplicates_in_file or self.already_in_stock or self.invalid)


def parse_key_file(data: bytes | str) -> list[tuple[int, str]]:
    """(line number, key) for each line of a TXT or CSV, UTF-8 or GB18030; blank lines give ""."""
    if isinstance(data, bytes):
        if b"\x00" in data:
            raise InventoryError(_("文件不是文本文件，请上传 TXT 或 CSV。"))
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:  # bytes that are neither (a binary file without NUL bytes)
            raise InventoryError(_("无法识别文件编码，请使用 UTF-8。"))
    else:
        text = data
    # Only CR/LF end a line (str.splitlines would also split on form feeds and the like, hiding them).
    lines = re.split(r"\r\n|\r|\n", text.removeprefix("\ufeff"))
    if lines[-1] == "":
        lines.pop()  # the newline that ends the last line does not start a blank one
    return [(number, _key_of_line(line)) for number, line in enumerate(lines, start=1)]


def _key_of_line(line: str) -> str:
    """A line is one key. CSV quoting is undone for a one-column row; a row with several filled
    columns (card number, password) is kept whole, never cut at the first comma."""
    fields = [cell.strip() for cell in next(csv.reader([line]), [])]
    filled = [cell for cell in fields if cell]
    return filled[0] if len(filled) == 1 else line.strip()


@transaction.atomic
def add_card_keys(*, product_id: int, data: bytes | str, batch: str) -> ImportReport:
    """Add the keys of a file to a product's stock, all or nothing: any duplicate or malformed line
    adds nothing and is reported by line number. Checking that the product takes card keys, and
    serialising imports of one product, is the caller's part (catalog.services.import_card_keys)."""
    report = ImportReport()
    seen: dict[str, int] = {}
    candidates = []
    for number, value in parse_key_file(data):
        if not value:
            report.blank_lines += 1
            continue
        if len(value) > MAX_KEY_LENGTH or any(ord(ch) < 32 for ch in value):
            report.invalid.append(number)
            continue
        fp = keyvault.fingerprint(value)
        if fp in seen:
            report.duplicates_in_file.append(number)
            continue
        seen[fp] = number
        candidates.append((number, value, fp))
    if len(candidates) > MAX_KEYS_PER_IMPORT:
        raise InventoryError(_("单次最多导入 %(n)d 条卡密。") % {"n": MAX_KEYS_PER_IMPORT})
    existing = set(
        CardKey.objects.filter(
            product_id=product_id, fingerprint__in=[fp for _, _, fp in candidates]
        ).values_list("fingerprint", flat=True)
    )
    report.already_in_stock = [number for number, _, fp in candidates if fp in existing]
    if report.problems:
        return report
    if not candidates:
        raise InventoryError(_("文件中没有卡密。"))
    try:
        CardKey.objects.bulk_create(
            [
                CardKey(product_id=product_id, secret_enc=keyvault.encrypt(v), fingerprint=fp, batch=batch)
                for _, v, fp in candidates
            ]
        )
    except IntegrityError as e:  # a concurrent import of the same keys
        raise InventoryError(_("有卡密刚刚被其他导入添加，请重试。")) from e
    report.added = len(candidates)
    transaction.on_commit(lambda: card_keys_added.send(sender=CardKey, product_id=product_id))
    return report


# --- an order's keys -----------------------------------------------------------------------------


def take_keys(order) -> list[CardKey]:
    """Assign `order.quantity` free keys of `order.product_id` to the order, oldest first; [] when
    there are not enough (nothing is taken then). `order` is the orders.Order being delivered; the
    caller holds its row lock, inside a transaction.

    Free keys are read with a row lock that skips rows another delivery holds (PostgreSQL), and each
    assignment is guarded by the key's status, so two buyers never get the same key. Raises
    InventoryError if another delivery took a key between the read and the assignment (no row
    locks, e.g. SQLite), so the caller's transaction rolls back the keys it had already taken."""
    qs = CardKey.objects.filter(product_id=order.product_id, status=CardKeyStatus.AVAILABLE).order_by("id")
    if connection.features.has_select_for_update_skip_locked:
        qs = qs.select_for_update(skip_locked=True)
    keys = list(qs[: order.quantity])
    if len(keys) < order.quantity:
        return []
    now = timezone.now()
    taken = 0
    for key in keys:
        taken += CardKey.objects.filter(pk=key.pk, status=CardKeyStatus.AVAILABLE).update(
            status=CardKeyStatus.ASSIGNED, order=order, assigned_at=now
        )
    if taken != len(keys):
        raise InventoryError(_("库存不足，请减少数量或稍后再试。"))
    return keys


def reveal_keys(*, order_id: int) -> tuple[list[str], int]:
    """The secrets of the keys assigned to an order, and how many of them were revealed for the first
    time now (their `viewed_at` is set). The caller holds the order's row lock and logs the reveal."""
    keys = list(CardKey.objects.filter(order_id=order_id, status=CardKeyStatus.ASSIGNED).order_by("id"))
    first = [k.pk for k in keys if k.viewed_at is None]
    if first:
        CardKey.objects.filter(pk__in=first).update(viewed_at=timezone.now())
    return [keyvault.decrypt(k.secret_enc) for k in keys], len(first)
