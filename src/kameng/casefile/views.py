"""Download the evidence bundle: the buyer of the case, or staff. Sellers and everyone else: 404."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.views.decorators.http import require_safe

from kameng.accounts.permissions import is_staff_member
from kameng.refunds import selectors as refunds

from . import bundle


@login_required
@require_safe
def evidence_bundle(request, case_id: int):
    case = refunds.cases().filter(pk=case_id).first()
    if case is None:
        raise Http404
    for_staff = is_staff_member(request.user)
    if case.buyer_id != request.user.pk and not for_staff:
        raise Http404
    made = bundle.build(case, viewer=request.user, for_staff=for_staff and case.buyer_id != request.user.pk)
    response = HttpResponse(made.data, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{made.name}"'
    response["Cache-Control"] = "private, no-store"
    return response
