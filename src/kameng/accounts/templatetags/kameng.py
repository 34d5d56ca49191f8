from django import template
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

register = template.Library()


@register.filter
def yuan(cents) -> str:
    """¥ from integer 分, never through float."""
    if cents in (None, ""):
        return ""
    cents = int(cents)
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}¥{cents // 100}.{cents % 100:02d}"


@register.filter
def local(dt, fmt: str = "%Y-%m-%d %H:%M"):
    if not dt:
        return ""
    return timezone.localtime(dt).strftime(fmt)


FIELD_TAG = "field:"  # a message's extra_tags "field:<name>": it belongs next to that form field


@register.simple_tag(takes_context=True)
def field_messages(context, name: str) -> list:
    """The messages a view left for one form field (messages.error(request, text,
    extra_tags="field:amount")) after a redirect: the form shows them at that field, and base.html
    leaves them out of its banner."""
    return [m for m in context.get("messages") or () if m.extra_tags == FIELD_TAG + name]


FILE_KINDS = (
    ("image/", _("图片")),
    ("video/", _("视频")),
    ("audio/", _("音频")),
    ("application/pdf", _("PDF 文件")),
    ("text/", _("文本文件")),
)


@register.filter
def file_kind(content_type: str) -> str:
    """What a stored file is, in words (never a raw MIME type on a page)."""
    for prefix, label in FILE_KINDS:
        if (content_type or "").startswith(prefix):
            return str(label)
    return str(_("文件"))
