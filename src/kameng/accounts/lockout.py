"""What a person sees when django-axes refuses a login after too many wrong passwords."""

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


def locked_out(request, original_response=None, credentials=None):
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    # Honest about recovery: there is no password reset yet, so the page promises none.
    message = _(
        "密码错误次数过多，已暂停从当前网络登录，请 %(m)d 分钟后再试。平台工作人员不会向您索要密码或验证码。"
    ) % {"m": minutes}
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=429)
    return render(request, "accounts/locked_out.html", {"message": message}, status=429)
