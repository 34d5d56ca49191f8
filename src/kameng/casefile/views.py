"""案卷 pages: the evidence bundle download, a buyer's complaint about handling, and the supervisors'
complaint queue. Thin: parse, authorize, call `bundle` or `complaints`, render."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from kameng.accounts.models import Role
from kameng.accounts.permissions import is_staff_member, role_required
from kameng.refunds import selectors as refunds

from . import bundle, complaints, pack12315
from .models import Complaint

SUPERVISING = (Role.SUPERVISOR, Role.ADMIN)


@login_required
@require_safe
def evidence_bundle(request, case_id: int):
    """The buyer of the case, or staff. Sellers and everyone else: 404."""
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


@login_required
def complain(request, case_id: int):
    case = refunds.buyer_case(case_id, request.user)
    if request.method == "POST":
        try:
            complaints.file_complaint(case_id=case.pk, buyer=request.user, text=request.POST.get("text", ""))
        except complaints.ComplaintError as e:
            return render(
                request,
                "casefile/complain.html",
                {"case": case, "error": str(e), "draft": request.POST.get("text", "")},
            )
        messages.success(request, _("投诉已提交，客服主管将在时限内答复，结果会显示在处理经过中。"))
        return redirect("refunds:detail", case_id=case.pk)
    return render(request, "casefile/complain.html", {"case": case, "draft": ""})


@role_required(*SUPERVISING)
@require_safe
def complaint_queue(request):
    state = request.GET.get("state", Complaint.State.OPEN)
    if state not in Complaint.State.values:
        state = Complaint.State.OPEN
    rows = (
        Complaint.objects.filter(state=state)
        .select_related("case", "buyer", "answered_by")
        .order_by("due_at", "id")
    )
    page = Paginator(rows, 30).get_page(request.GET.get("page"))
    return render(
        request, "casefile/queue.html", {"page": page, "state": state, "states": Complaint.State.choices}
    )


@role_required(*SUPERVISING)
def complaint_detail(request, complaint_no: int):
    complaint = (
        Complaint.objects.select_related("case", "buyer", "conversation").filter(pk=complaint_no).first()
    )
    if complaint is None:
        raise Http404
    error = ""
    if request.method == "POST":
        try:
            complaints.answer_complaint(
                complaint_id=complaint.pk, supervisor=request.user, answer=request.POST.get("answer", "")
            )
        except complaints.ComplaintError as e:
            error = str(e)
        else:
            messages.success(request, _("已答复，买家会在处理经过中看到。"))
            return redirect("casefile:complaints")
    return render(
        request,
        "casefile/complaint.html",
        {"complaint": complaint, "error": error, "draft": request.POST.get("answer", "") if error else ""},
    )


@login_required
@require_safe
def complaint_12315(request, case_id: int):
    """The 12315 pack of the buyer's own case (staff may look at it too)."""
    case = refunds.cases().filter(pk=case_id).first()
    if case is None or (case.buyer_id != request.user.pk and not is_staff_member(request.user)):
        raise Http404
    pack = pack12315.build(case)
    if pack.ready and request.GET.get("download") == "1":
        response = HttpResponse(pack.text, content_type="text/plain; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="12315-case-{case.pk}.txt"'
        return response
    return render(request, "casefile/12315.html", {"case": case, "pack": pack})
