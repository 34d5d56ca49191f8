from django import template
from django.utils import timezone

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
