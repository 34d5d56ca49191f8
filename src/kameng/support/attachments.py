"""Files sent in a conversation: images, voice notes, videos and files, from the chat, email or a
social channel. Checked by their bytes, never by their names (kameng.evidence.uploads); images are
decoded and re-encoded, so what is stored is pixels only: no EXIF location, no comment block, no
script appended after the image data, no polyglot. Every other kind is stored as received, served
with its checked type, never as HTML."""

import hashlib
import io
import uuid
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from kameng.evidence.uploads import MAX_FILE_BYTES, UploadError, inspect

from .models import Message, MessageAttachment

MAX_PER_MESSAGE = 5
# Beyond this an image is refused before its pixels are decoded (a small file can claim a huge canvas).
MAX_PIXELS = 40_000_000
NAME_MAX = 200
Kind = MessageAttachment.Kind


class AttachmentError(ValueError):
    """A file refused; the message says which and why, in the reader's language."""


@dataclass(frozen=True)
class Checked:
    """A file that passed the checks, ready to store: what to write and what to record."""

    name: str
    kind: str
    content_type: str
    data: bytes
    original_sha256: str


def clean_name(name: str) -> str:
    """The name shown to people: no directories, no control characters, bounded."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip() or _("文件")
    return name[-NAME_MAX:]


def check(*, name: str, data: bytes) -> Checked:
    """Check one file by content; images come back re-encoded. Raises AttachmentError."""
    name = clean_name(name)
    upload = SimpleUploadedFile(name, data)
    try:
        content_type, digest, _size = inspect(upload)
    except UploadError as e:
        raise AttachmentError(str(e)) from None
    kind = _kind_of(content_type)
    if kind == Kind.IMAGE:
        data, content_type = _reencode(name, data)
    return Checked(name=name, kind=kind, content_type=content_type, data=data, original_sha256=digest)


def check_all(files: list[tuple[str, bytes]]) -> list[Checked]:
    """Check every file of one message before anything is stored: one refused file refuses them all,
    so the sender can fix it and send again without half a message arriving."""
    if len(files) > MAX_PER_MESSAGE:
        raise AttachmentError(
            _("一条消息最多附带 %(n)d 个文件，现在是 %(m)d 个。") % {"n": MAX_PER_MESSAGE, "m": len(files)}
        )
    return [check(name=name, data=data) for name, data in files]


def check_uploads(uploads) -> list[Checked]:
    """`check_all` for files uploaded through a form or the API: a file too big is refused before
    its bytes are read into memory."""
    for upload in uploads:
        if upload.size > MAX_FILE_BYTES:
            raise AttachmentError(_("文件“%(name)s”超过 20MB。") % {"name": clean_name(upload.name)})
    return check_all([(upload.name or "", upload.read()) for upload in uploads])


def store(*, message: Message, checked: Checked) -> MessageAttachment:
    """Write a checked file for `message` (inside the caller's transaction)."""
    extension = _EXTENSIONS.get(checked.content_type, "")
    return MessageAttachment.objects.create(
        message=message,
        kind=checked.kind,
        file=ContentFile(checked.data, name=f"{uuid.uuid4().hex}{extension}"),
        original_name=checked.name,
        content_type=checked.content_type,
        size=len(checked.data),
        original_sha256=checked.original_sha256,
        sha256=hashlib.sha256(checked.data).hexdigest(),
    )


def attach(*, message: Message, name: str, data: bytes) -> MessageAttachment:
    """Check and store one file for a message that already exists (a mail's attachments arrive one by
    one). Raises AttachmentError; the caller may then keep the refusal with `note_refused`."""
    return store(message=message, checked=check(name=name, data=data))


def note_refused(*, message: Message, name: str, reason: str) -> MessageAttachment:
    """Keep the trace of a file that was not stored: its name and why, visible to staff and sender."""
    return MessageAttachment.objects.create(
        message=message,
        kind=Kind.FILE,
        original_name=clean_name(name),
        refused=reason[:200],
    )


def as_item(a: MessageAttachment) -> dict:
    """A file as pages, the API and live frames show it (the URL checks who asks)."""
    return {
        "id": a.pk,
        "kind": a.kind,
        "name": a.original_name,
        "size": a.size,
        "url": f"/support/a/{a.pk}/" if a.file else "",
        "refused": a.refused,
    }


def _kind_of(content_type: str) -> str:
    if content_type.startswith("image/"):
        return Kind.IMAGE
    if content_type.startswith("audio/"):
        return Kind.VOICE
    if content_type.startswith("video/"):
        return Kind.VIDEO
    return Kind.FILE


def _reencode(name: str, data: bytes) -> tuple[bytes, str]:
    """Decode the image and write its pixels anew: PNG when it has transparency or was lossless,
    JPEG otherwise. An animated image keeps its first frame."""
    refused = AttachmentError(_("图片“%(name)s”无法识别或已损坏。") % {"name": name})
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise AttachmentError(
                    _("图片“%(name)s”太大（%(w)d×%(h)d 像素）。") % {"name": name, "w": width, "h": height}
                )
            lossless = image.format in ("PNG", "GIF", "BMP")
            image = ImageOps.exif_transpose(image)  # keep the orientation the EXIF said, then drop EXIF
            has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
            out = io.BytesIO()
            if has_alpha or lossless:
                image.convert("RGBA" if has_alpha else "RGB").save(out, format="PNG", optimize=True)
                return out.getvalue(), "image/png"
            image.convert("RGB").save(out, format="JPEG", quality=88)
            return out.getvalue(), "image/jpeg"
    except AttachmentError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError, SyntaxError):
        raise refused from None


_EXTENSIONS = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "video/mp4": ".mp4",
    "video/webm": ".webm",
    "video/quicktime": ".mov",
    "video/x-matroska": ".mkv",
    "audio/mpeg": ".mp3",
    "audio/mp4": ".m4a",
    "audio/x-m4a": ".m4a",
    "audio/ogg": ".ogg",
    "audio/x-wav": ".wav",
    "audio/amr": ".amr",
    "audio/aac": ".aac",
    "application/pdf": ".pdf",
    "text/plain": ".txt",
    "text/html": ".html.txt",
    "text/csv": ".csv",
}
