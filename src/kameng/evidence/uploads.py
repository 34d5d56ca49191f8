"""Evidence uploads are checked by their bytes, not their names."""

import hashlib

import filetype
from django.utils.translation import gettext as _

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_FILES = 10
ALLOWED = {
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "image/bmp",
    "video/mp4",
    "video/webm",
    "video/quicktime",
    "video/x-matroska",
    "audio/mpeg",
    "audio/mp4",
    "audio/x-m4a",
    "audio/ogg",
    "audio/x-wav",
    "audio/amr",
    "audio/aac",
    "application/pdf",
}
TEXT_TYPES = {".txt": "text/plain", ".html": "text/html", ".htm": "text/html", ".csv": "text/csv"}


class UploadError(ValueError):
    pass


def inspect(upload, *, also_allowed: frozenset[str] = frozenset()) -> tuple[str, str, int]:
    """(content type, sha256, size) of an uploaded file, or UploadError saying what is wrong."""
    size = upload.size or 0
    name = getattr(upload, "name", "") or "file"
    if size == 0:
        raise UploadError(_("文件“%(name)s”是空的。") % {"name": name})
    if size > MAX_FILE_BYTES:
        raise UploadError(_("文件“%(name)s”超过 20MB。") % {"name": name})
    upload.seek(0)
    head = upload.read(8192)
    kind = filetype.guess(head)
    if kind is not None:
        mime = kind.mime
        if mime not in ALLOWED and mime not in also_allowed:
            raise UploadError(_("文件“%(name)s”的类型（%(mime)s）不支持。") % {"name": name, "mime": mime})
    else:
        # Chat exports are plain text: accept only if the name says text and the bytes really are text.
        ext = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
        if ext not in TEXT_TYPES or b"\x00" in head or not _is_text(head):
            raise UploadError(
                _("文件“%(name)s”不是支持的图片、视频、音频、PDF 或文本文件（按内容识别）。") % {"name": name}
            )
        mime = TEXT_TYPES[ext]
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return mime, digest.hexdigest(), size


def _is_text(head: bytes) -> bool:
    for encoding in ("utf-8", "gb18030"):
        try:
            head.decode(encoding)
            return True
        except UnicodeDecodeError:
            continue
    return False
