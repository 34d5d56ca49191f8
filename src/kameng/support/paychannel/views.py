"""The channel's webhook (a door other systems use: signature-checked, no login) and the staff's
list of payment-channel complaints."""

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST, require_safe

from kameng.accounts.permissions import role_required

from ..services import ANSWERING_ROLES
from . import selectors
from .services import receive


@csrf_exempt
@require_POST
def notify(request, channel: str):
    """The channel posts each complaint here (again and again until it reads `success`)."""
    result = receive(channel=channel, body=request.body, signature=request.headers.get("X-Signature", ""))
    text = "success" if result.status == 200 else "fail: " + result.message
    return HttpResponse(text, status=result.status, content_type="text/plain")


@role_required(*ANSWERING_ROLES)
@require_safe
def staff_list(request):
    state = request.GET.get("state", "")
    return render(
        request,
        "support/staff_complaints.html",
        {
            "rows": selectors.rows(selectors.complaints(state=state)[:200], now=timezone.now()),
            "state": state,
            "states": selectors.STATE_FILTERS,
        },
    )
