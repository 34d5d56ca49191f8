"""Card-key stock: import (all or nothing), taking keys for an order, revealing them to its buyer.

Nothing here knows what a product or an order is beyond its id: the callers (catalog for imports,
orders for delivery) hold the row lock of the product or order they pass in.
"""

import csv
import re
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import secrets as keyvault
from .models import CardKey, CardKeyStatus, KeyImportDraft
from .signals import card_keys_added

MAX_KEY_LENGTH = 200
MAX_KEYS_PER_IMPORT = 5000


class InventoryError(Exception):
    """A request the stock refuses; the message is for the user, in their language."""


# --- import ------------------------------------------------------------------------------------

# Words sellers' files use as column titles. A first row made only of these is a header, never a key.
HEADER_WORDS = {
    "卡号", "密码", "卡密", "卡号密码", "账号", "帐号", "序列号", "激活码", "兑换码", "充值码", "面值", "批次",
    "card", "cardno", "cardnumber", "cardid", "number", "no", "password", "passwd", "pwd", "pin",
    "key", "cardkey", "secret", "code", "serial",
}  # fmt: skip
DRAFT_LIFETIME = timedelta(minutes=30)
PREVIEW_ROWS = 50


@dataclass(frozen=True)
class KeyRow:
    """One line of a key file: a password alone (card_no "") or a card number and its password."""

    number: int
    card_no: str
    secret: str
    columns: int  # filled cells on the line; more than 2 is a line we cannot read

    @property
    def blank(self) -> bool:
        return self.columns == 0


@dataclass
class KeyFile:
    rows: list[KeyRow]
    header_line: int | None = None


@dataclass
class ImportReport:
    added: int = 0
    blank_lines: int = 0
    header_line: int | None = None  # the header row that was skipped, if any
    to_add: int = 0  # keys that a confirmed import adds
    two_column: int = 0  # of them, card number + password
    duplicates_in_file: list[int] = field(default_factory=list)  # line numbers
    already_in_stock: list[int] = field(default_factory=list)
    invalid: list[int] = field(default_factory=list)
    preview: list[tuple[int, str, str]] = field(default_factory=list)  # (line, masked 卡号, masked 密码)

    @property
    def problems(self) -> bool:
        return bool(self.duplicates_in_file or self.already_in_stock or self.invalid)


def mask(value: str) -> str:
    """What a preview may show of a secret: its first 4 and last 2 characters, and only when the
    secret is long enough that this hides most of it."""
    if not value:
        return ""
    if len(value) < 10:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 6) + value[-2:]


def decode_key_file(data: bytes | str) -> str:
    """The text of an uploaded TXT or CSV: UTF-8 (with or without BOM) or GB18030 (a superset of
    GBK and GB2312, what Excel on a Chinese Windows saves)."""
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    if b"\x00" in data:
        raise InventoryError(_("文件不是文本文件，请上传 TXT 或 CSV。"))
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InventoryError(_("无法识别文件编码，请使用 UTF-8。"))  # neither (a binary file without NUL)


def parse_key_file(data: bytes | str, *, has_header: bool = False) -> KeyFile:
    """The rows of a TXT or CSV of card keys: one column (password) or two (card number, password),
    separated by a comma, a tab or "----". A first row of column titles is skipped: when the seller
    declares it (`has_header`), or when its cells are known header words, or when it has no digit
    while every other row has one."""
    text = decode_key_file(data)
    # Only CR/LF end a line (str.splitlines would also split on form feeds and the like, hiding them).
    lines = re.split(r"\r\n|\r|\n", text)
    if lines[-1] == "":
        lines.pop()  # the newline that ends the last line does not start a blank one
    rows = [_row_of_line(number, line) for number, line in enumerate(lines, start=1)]
    filled = [row for row in rows if not row.blank]
    header = None
    if filled and (has_header or _looks_like_header(filled[0], filled[1:])):
        header = filled[0].number
        rows = [row for row in rows if row.number != header]
    return KeyFile(rows=rows, header_line=header)


def _cells(line: str) -> list[str]:
    if "\t" in line:
        cells = line.split("\t")
    elif "----" in line:
        cells = line.split("----")
    else:
        cells = next(csv.reader([line]), [])
    return [cell.strip() for cell in cells if cell.strip()]


def _row_of_line(number: int, line: str) -> KeyRow:
    cells = _cells(line)
    if len(cells) == 1:
        return KeyRow(number, "", cells[0], 1)
    if len(cells) == 2:
        return KeyRow(number, cells[0], cells[1], 2)
    return KeyRow(number, "", line.strip(), len(cells))


def _looks_like_header(first: KeyRow, rest: list[KeyRow]) -> bool:
    cells = [c for c in (first.card_no, first.secret) if c]
    if first.columns > 2:
        return False
    words = [re.sub(r"[\s_\-:：()（）]", "", c).lower() for c in cells]
    if all(w in HEADER_WORDS for w in words):
        return True
    has_digit = re.compile(r"\d")
    return (
        len(rest) >= 2
        and not any(has_digit.search(c) for c in cells)
        and all(has_digit.search(row.card_no + row.secret) for row in rest)
    )


def _fingerprint(row: KeyRow) -> str:
    # A tab never occurs inside a valid value, so a pair never collides with a password alone.
    return keyvault.fingerprint(f"{row.card_no}\t{row.secret}" if row.card_no else row.secret)


def _valid(row: KeyRow) -> bool:
    if row.columns > 2:
        return False
    return all(
        len(value) <= MAX_KEY_LENGTH and not any(ord(ch) < 32 for ch in value)
        for value in (row.card_no, row.secret)
    )


def check_card_keys(*, product_id: int, data: bytes | str, has_header: bool = False):
    """Check a key file against itself and the product's stock without writing anything: the report
    (with a masked preview) and the rows a confirmed import would add."""
    parsed = parse_key_file(data, has_header=has_header)
    report = ImportReport(header_line=parsed.header_line)
    seen: dict[str, int] = {}
    candidates = []
    for row in parsed.rows:
        if row.blank:
            report.blank_lines += 1
            continue
        if not _valid(row):
            report.invalid.append(row.number)
            continue
        fp = _fingerprint(row)
        if fp in seen:
            report.duplicates_in_file.append(row.number)
            continue
        seen[fp] = row.number
        candidates.append((row, fp))
    if len(candidates) > MAX_KEYS_PER_IMPORT:
        raise InventoryError(_("单次最多导入 %(n)d 条卡密。") % {"n": MAX_KEYS_PER_IMPORT})
    existing = set(
        CardKey.objects.filter(
            product_id=product_id, fingerprint__in=[fp for _, fp in candidates]
        ).values_list("fingerprint", flat=True)
    )
    report.already_in_stock = [row.number for row, fp in candidates if fp in existing]
    report.to_add = len(candidates)
    report.two_column = sum(1 for row, _ in candidates if row.card_no)
    report.preview = [
        (row.number, mask(row.card_no), mask(row.secret)) for row, _ in candidates[:PREVIEW_ROWS]
    ]
    if not candidates and not report.problems:
        raise InventoryError(_("文件中没有卡密。"))
    return report, candidates


@transaction.atomic
def add_card_keys(
    *, product_id: int, data: bytes | str, batch: str, has_header: bool = False
) -> ImportReport:
    """Add the keys of a file to a product's stock, all or nothing: any duplicate or malformed line
    adds nothing and is reported by line number. Checking that the product takes card keys, and
    serialising imports of one product, is the caller's part (catalog.services.import_card_keys)."""
    report, candidates = check_card_keys(product_id=product_id, data=data, has_header=has_header)
    if report.problems:
        return report
    try:
        CardKey.objects.bulk_create(
            [
                CardKey(
                    product_id=product_id,
                    secret_enc=keyvault.encrypt(row.secret),
                    card_no_enc=keyvault.encrypt(row.card_no) if row.card_no else "",
                    fingerprint=fp,
                    batch=batch,
                )
                for row, fp in candidates
            ]
        )
    except IntegrityError as e:  # a concurrent import of the same keys
        raise InventoryError(_("有卡密刚刚被其他导入添加，请重试。")) from e
    report.added = len(candidates)
    transaction.on_commit(lambda: card_keys_added.send(sender=CardKey, product_id=product_id))
    return report


# --- preview, then confirm -------------------------------------------------------------------------


@transaction.atomic
def stage_card_keys(*, product_id: int, owner_id: int, data: bytes | str, has_header: bool = False):
    """Check a key file and keep it, encrypted, until its owner confirms the preview: the report and
    the draft (None when the file has problems: nothing to confirm then)."""
    report, _candidates = check_card_keys(product_id=product_id, data=data, has_header=has_header)
    KeyImportDraft.objects.filter(created_at__lt=timezone.now() - DRAFT_LIFETIME).delete()
    if report.problems:
        return report, None
    draft = KeyImportDraft.objects.create(
        product_id=product_id,
        owner_id=owner_id,
        text_enc=keyvault.encrypt(decode_key_file(data)),
        has_header=has_header,
    )
    return report, draft


def take_draft(*, draft_id, product_id: int, owner_id: int) -> tuple[str, bool]:
    """The text and header choice of the caller's own live draft, which is deleted (a confirm runs
    once). Someone else's, an expired or an unknown draft are all "not found". The caller imports
    the text in the same transaction."""
    draft = (
        KeyImportDraft.objects.select_for_update()
        .filter(
            pk=draft_id,
            product_id=product_id,
            owner_id=owner_id,
            created_at__gte=timezone.now() - DRAFT_LIFETIME,
        )
        .first()
    )
    if draft is None:
        raise InventoryError(_("预览已过期或不存在，请重新上传。"))
    text, has_header = keyvault.decrypt(draft.text_enc), draft.has_header
    draft.delete()
    return text, has_header


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


@dataclass(frozen=True)
class RevealedKey:
    card_no: str  # "" for a key that is a password alone
    secret: str


def reveal_keys(*, order_id: int) -> tuple[list[RevealedKey], int]:
    """The keys assigned to an order, decrypted, and how many of them were revealed for the first
    time now (their `viewed_at` is set). The caller holds the order's row lock and logs the reveal."""
    keys = list(CardKey.objects.filter(order_id=order_id, status=CardKeyStatus.ASSIGNED).order_by("id"))
    first = [k.pk for k in keys if k.viewed_at is None]
    if first:
        CardKey.objects.filter(pk__in=first).update(viewed_at=timezone.now())
    revealed = [
        RevealedKey(keyvault.decrypt(k.card_no_enc) if k.card_no_enc else "", keyvault.decrypt(k.secret_enc))
        for k in keys
    ]
    return revealed, len(first)
