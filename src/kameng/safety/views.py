"""验证客服: anyone can check whether a number, address, link, account or 工号 is the platform's."""

from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from . import registry
from .models import OfficialChannel

KIND_LABELS = {
    "phone": _("电话号码"),
    "email": _("邮箱地址"),
    "domain": _("网站域名"),
    "link": _("网址链接"),
    "social": _("社交账号"),
    "agent": _("客服工号"),
    "unknown": _("无法识别的内容"),
}


@require_safe
def verify(request):
    value = request.GET.get("value", "")[:300]
    result = registry.verify(value) if value.strip() else None
    context = {
        "value": value,
        "result": result,
        "kind_label": KIND_LABELS[result.kind] if result else "",
        "official": OfficialChannel.objects.filter(is_active=True),
    }
    return render(request, "safety/verify.html", context)
