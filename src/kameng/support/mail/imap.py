"""Fetching the support mailbox by IMAP when KAMENG_IMAP_URL is set (imap://user:password@host:port/
INBOX, imaps:// for TLS). UID-based and idempotent: each mail is stored under its mailbox,
UIDVALIDITY and UID (fetched twice → stored once), read with BODY.PEEK so it stays unseen until it
is stored, and marked \\Seen only after that."""

from urllib.parse import unquote, urlsplit

from django.conf import settings
from imapclient import IMAPClient

from .inbound import process_safely, store_raw

BATCH = 50


def fetch_imap(url: str | None = None, limit: int = 200) -> int:
    """Store and file the unseen mails of the mailbox; returns how many were stored."""
    url = url or settings.IMAP_URL
    if not url:
        return 0
    parts = urlsplit(url)
    folder = unquote(parts.path.lstrip("/")) or "INBOX"
    secure = parts.scheme == "imaps"
    user = unquote(parts.username or "")
    stored = 0
    with IMAPClient(
        parts.hostname, port=parts.port or (993 if secure else 143), ssl=secure, timeout=30
    ) as box:
        box.login(user, unquote(parts.password or ""))
        status = box.select_folder(folder)
        validity = status.get(b"UIDVALIDITY", 0)
        uids = sorted(box.search(["UNSEEN"]))[:limit]
        for start in range(0, len(uids), BATCH):
            batch = uids[start : start + BATCH]
            for uid, data in box.fetch(batch, ["BODY.PEEK[]"]).items():
                raw = data.get(b"BODY[]")
                if raw is None:
                    continue
                mail = store_raw(
                    raw=raw,
                    source="imap",
                    source_ref=f"imap:{user}@{parts.hostname}/{folder}/{validity}/{uid}",
                )
                process_safely(mail.pk)
                box.add_flags([uid], [b"\\Seen"])
                stored += 1
    return stored
