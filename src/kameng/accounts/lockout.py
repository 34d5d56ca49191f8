"""What a person sees when django-axes refuses a login after too many wrong passwords: until when,
and the ways out that really exist (wait, or reset the password by email)."""

from axes.helpers import get_client_ip_address, get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Max, Sum
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _


def _lock(ip: str, username: str):
    """(the time the lock ends at the latest, whether it is this account's lock) from axes'
    records: the pair (username, address) counts against AXES_FAILURE_LIMIT; otherwise it is the
    address's lock for guessing many usernames, which a password reset does not lift."""
    pair = AccessAttempt.objects.filter(ip_address=ip, username=username).aggregate(
        n=Sum("failures_since_start"), last=Max("attempt_time")
    )
    if username and (pair["n"] or 0) >= settings.AXES_FAILURE_LIMIT:
        last = pair["last"]
        account = True
    else:
        last = AccessAttempt.objects.filter(ip_address=ip).aggregate(last=Max("attempt_time"))["last"]
        account = False
    return (last or timezone.now()) + settings.AXES_COOLOFF_TIME, account


def locked_out(request, original_response=None, credentials=None):
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    # the credentials axes passes, else the form's username field (axes' own lookup)
    username = get_client_username(request, credentials) or ""
    until, account = _lock(get_client_ip_address(request) or "", username)
    until_text = timezone.localtime(until).strftime("%H:%M")
    message = _("密码错误次数过多，已暂停从当前网络登录，请 %(m)d 分钟后再试（%(until)s 之后）。") % {
        "m": minutes,
        "until": until_text,
    }
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=429)
    context = {"message": message, "account_lock": account}
    return render(request, "accounts/locked_out.html", context, status=429)
