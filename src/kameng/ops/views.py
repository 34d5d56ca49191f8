"""Operators' pages. The event chain's state for staff: the last full check (with its problems), a check of one stream
on the spot, and a button that runs the full check in the background."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from kameng.accounts.models import Role
from kameng.accounts.permissions import role_required
from kameng.evidence.models import ChainCheck
from kameng.evidence.services import verify_stream
from kameng.evidence.tasks import check_chains_task

STAFF = (Role.AGENT, Role.SUPERVISOR, Role.FINANCE, Role.ADMIN)


@role_required(*STAFF)
@require_safe
def chain(request):
    stream = request.GET.get("stream", "").strip()[:40]
    context = {
        "last": ChainCheck.objects.first(),
        "running": ChainCheck.objects.filter(finished_at__isnull=True).exists(),
        "stream": stream,
        "stream_problems": verify_stream(stream) if stream else None,
        "can_run": request.user.has_role(Role.SUPERVISOR, Role.ADMIN),
    }
    return render(request, "ops/chain.html", context)


@role_required(Role.SUPERVISOR, Role.ADMIN)
@require_POST
def run(request):
    check_chains_task.enqueue(str(request.user.agent_no or request.user))
    messages.success(request, _("已开始全量检查，完成后本页显示结果。"))
    return redirect("ops:chain")
