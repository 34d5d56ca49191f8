"""The notice centre (issue 15, item 9): every user's notices, newest first, read and unread; the
badge's count and the newest few as JSON for the page's poll; the user's choice of email."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from . import selectors, services
from .forms import NoticePreferencesForm

NEWEST = 5


def preferences_form(user) -> NoticePreferencesForm:
    return NoticePreferencesForm(
        initial={"email_notices": selectors.wants_mail(user), "language": user.language or "zh-hans"}
    )


@login_required
@require_safe
def centre(request):
    return render_centre(request, preferences_form(request.user))


def render_centre(request, form, *, status: int = 200):
    page = Paginator(selectors.notices_of(request.user), 30).get_page(request.GET.get("page"))
    return render(
        request,
        "accounts/notices.html",
        {"page": page, "form": form, "has_email": bool(request.user.email)},
        status=status,
    )


@login_required
@require_POST
def read(request, notice_id: int):
    """Mark one notice read; with `go`, follow its link (a local one only)."""
    notice = services.mark_notice_read(user=request.user, notice_id=notice_id)
    if notice is None:
        messages.error(request, _("通知不存在。"))
        return redirect("notices:centre")
    if request.POST.get("go") and notice.link and local(request, notice.link):
        return redirect(notice.link)
    return redirect("notices:centre")


def local(request, url: str) -> bool:
    return url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()})


@login_required
@require_POST
def read_all(request):
    n = services.mark_all_notices_read(user=request.user)
    messages.success(request, _("已将 %(n)d 条通知标为已读。") % {"n": n})
    return redirect("notices:centre")


@login_required
@require_POST
def preferences(request):
    form = NoticePreferencesForm(request.POST)
    if not form.is_valid():
        return render_centre(request, form, status=400)
    wants = form.cleaned_data["email_notices"]
    if wants and not request.user.email:
        form.add_error("email_notices", _("您的账号没有邮箱地址，无法通过邮件接收通知。"))
        return render_centre(request, form, status=400)
    services.set_notice_preferences(
        user=request.user, email_notices=wants, language=form.cleaned_data["language"]
    )
    messages.success(request, _("通知设置已保存。"))
    return redirect("notices:centre")


@login_required
@require_safe
def unread_json(request):
    """For the badge's poll: the unread count and the newest few unread notices."""
    newest = selectors.notices_of(request.user).filter(read_at__isnull=True)[:NEWEST]
    return JsonResponse(
        {
            "unread": selectors.unread_count(request.user),
            "newest": [
                {"id": n.pk, "text": n.message, "link": n.link, "at": n.created_at.isoformat()}
                for n in newest
            ],
        },
        json_dumps_params={"ensure_ascii": False},
        headers={"Cache-Control": "no-store"},
    )
