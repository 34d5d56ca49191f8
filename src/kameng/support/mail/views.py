"""Staff pages for the support mailbox: the mails that need a person (strangers to verify, mails
that could not be read) and each mail's raw bytes, exactly as they arrived."""

from django.contrib import messages as flash
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_safe

from kameng.accounts.permissions import role_required

from ..models import InboundMail
from ..services import ANSWERING_ROLES, SupportError
from . import inbound


@role_required(*ANSWERING_ROLES)
def staff_mail(request):
    if request.method == "POST":
        mail_id = request.POST.get("mail", "")
        number = int(mail_id) if mail_id.isdigit() else 0
        try:
            if request.POST.get("action") == "file":
                inbound.file_for_buyer(mail_id=number, agent=request.user, who=request.POST.get("who", ""))
            else:
                inbound.mark_reviewed(mail_id=number, agent=request.user)
        except SupportError as e:
            flash.error(request, str(e))
        return redirect("support:staff_mail")
    return render(request, "support/staff_mail.html", {"mails": inbound.needing_a_person()[:200]})


@role_required(*ANSWERING_ROLES)
@require_safe
def staff_mail_raw(request, mail_id: int):
    """The mail as it arrived (.eml), for a person to open in a mail program; never rendered here."""
    mail = get_object_or_404(InboundMail, pk=mail_id)
    response = HttpResponse(bytes(mail.raw), content_type="message/rfc822")
    response["Content-Disposition"] = f'attachment; filename="kameng-mail-{mail.pk}.eml"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
