"""Customer-service pages: the help centre (public), a buyer's conversation (chat that works with a
plain form POST and refreshes itself with a small script), and the agents' queue and conversation."""

import logging
import uuid

from django.conf import settings
from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from kameng.accounts.permissions import role_required
from kameng.accounts.templatetags.kameng import local
from kameng.catalog.models import GoodsKind, Seller
from kameng.orders.models import Order
from kameng.refunds import selectors as refunds
from kameng.refunds.progress import progress
from kameng.safety import registry

from . import attachments, canned, commitments, desk, routing, selectors, services, wait, workspace
from . import wechat_inbox as wechat
from .forms import CallbackForm, CallForm
from .models import (
    Answer,
    Channel,
    Commitment,
    ConversationState,
    Department,
    MessageAttachment,
    WeChatBinding,
)
from .paychannel import selectors as complaints
from .paychannel.services import REPLY_MAX
from .paychannel.services import reply as reply_to_channel
from .services import ANSWERING_ROLES, SupportError
from .wechat import protocol as wechat_protocol

log = logging.getLogger(__name__)

QUEUE_SHOWN = 200
DESK_KINDS = [
    ("waiting", gettext_lazy("等待人工")),
    ("held", gettext_lazy("处理中")),
    ("commitment", gettext_lazy("承诺与回电")),
    ("case", gettext_lazy("退款申请")),
]


@require_safe
def help_centre(request):
    context = {
        "answers": Answer.objects.filter(is_active=True),
        "wait": wait.estimate(),
        "official": registry.contacts(),
        "conversations": selectors.of_buyer(request.user)[:10] if request.user.is_authenticated else [],
    }
    return render(request, "support/help.html", context)


@login_required
@require_POST
def start(request):
    conversation = services.conversation_for(buyer=request.user)
    return redirect("support:conversation", conversation_id=conversation.pk)


@login_required
@require_safe
def order_chat(request, no: str):
    """联系客服 from an order: the conversation about that order, opened on first use."""
    order = get_object_or_404(Order, no=no, buyer=request.user)
    conversation = services.conversation_for(buyer=request.user, order=order)
    return redirect("support:conversation", conversation_id=conversation.pk)


def _transcript(conversation, *, for_staff: bool, viewer, after: int = 0) -> list[dict]:
    return [
        {
            "id": m.pk,
            "author": m.author_kind,
            "author_label": m.get_author_kind_display(),
            "agent_no": m.author.agent_no if m.author_id and m.author_kind == "agent" else "",
            "text": m.text_for(viewer.pk),
            "link": m.link,
            "internal": m.internal,
            "channel": m.get_channel_display(),
            # A person's message that came by another door than the chat says which (邮件, 微信公众号).
            "via": m.get_channel_display() if m.channel not in ("web", "system") else "",
            "channel_code": m.channel,
            "at": m.created_at,
            "read": m.read_at is not None,
            "attachments": [attachments.as_item(a) for a in m.attachments.all()],
        }
        for m in selectors.messages_of(conversation, for_staff=for_staff, after=after)
    ]


def _uploaded(request) -> list[attachments.Checked]:
    """The files sent with the form, checked (images re-encoded) before anything is stored."""
    return attachments.check_uploads(request.FILES.getlist("files"))


@login_required
@require_safe
def attachment(request, file_id: int):
    """A file of a message: to the buyer of the conversation (not internal notes) and to staff."""
    att = MessageAttachment.objects.select_related("message__conversation").filter(pk=file_id).first()
    if att is None or not att.file:
        raise Http404
    message = att.message
    own = message.conversation.buyer_id == request.user.pk and not message.internal
    if not own and not services.may_answer(request.user):
        raise Http404
    try:
        fh = att.file.open("rb")
    except OSError:
        raise Http404 from None
    inline = att.kind != MessageAttachment.Kind.FILE or att.content_type == "application/pdf"
    response = FileResponse(
        fh,
        as_attachment=not inline,
        filename=att.original_name,
        content_type=att.content_type if inline else "application/octet-stream",
    )
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; media-src 'self'; sandbox"
    return response


@login_required
def conversation(request, conversation_id: int):
    conv = selectors.buyer_conversation(conversation_id, request.user)
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "callback":
            return _book_callback(request, conv)
        try:
            if action == "person":
                services.ask_for_person(conversation_id=conv.pk, buyer=request.user)
            else:
                services.post_message(
                    conversation_id=conv.pk,
                    author=request.user,
                    body=request.POST.get("body", ""),
                    client_id=request.POST.get("client_id", ""),
                    attachments=_uploaded(request),
                    confirmed=request.POST.get("confirm") == "1",
                )
        except (SupportError, attachments.AttachmentError) as e:
            flash.error(request, str(e))
            context = _buyer_context(request, conv, draft=request.POST.get("body", ""))
            context["confirm_needed"] = isinstance(e, services.NeedsConfirmation)
            return render(request, "support/conversation.html", context)
        return redirect("support:conversation", conversation_id=conv.pk)
    services.mark_read(conversation=conv, reader=request.user)
    return render(request, "support/conversation.html", _buyer_context(request, conv))


def _book_callback(request, conv):
    form = CallbackForm(request.POST)
    if form.is_valid():
        try:
            commitments.book_callback(
                buyer=request.user,
                conversation_id=conv.pk,
                at=form.cleaned_data["at"],
                phone=form.cleaned_data["phone"],
            )
        except SupportError as e:
            form.add_error(None, str(e))
        else:
            return redirect("support:conversation", conversation_id=conv.pk)
    return render(request, "support/conversation.html", _buyer_context(request, conv, callback_form=form))


def _buyer_context(request, conv, draft: str = "", callback_form=None) -> dict:
    conv.refresh_from_db()
    case = refunds.cases().filter(order_id=conv.order_id).order_by("-id").first() if conv.order_id else None
    transcript = _transcript(conv, for_staff=False, viewer=request.user)
    return {
        "conversation": conv,
        "transcript": transcript,
        "last_id": transcript[-1]["id"] if transcript else 0,
        "case": case,
        "wait": wait.estimate(conv)
        if conv.state in (ConversationState.QUEUED, ConversationState.SELF_SERVICE)
        else None,
        "client_id": uuid.uuid4().hex,
        "draft": draft,
        "max_length": services.MESSAGE_MAX,
        "poll_url": f"/support/c/{conv.pk}/messages/",
        "ws_url": f"/ws/support/c/{conv.pk}/",
        "own": "buyer",
        "commitments": conv.commitments.order_by("due_at"),
        "official": registry.contacts(),
        "callback_form": callback_form or CallbackForm(),
        "complaint_rows": _complaint_rows(conv),
    }


def _complaint_rows(conv):
    return complaints.rows(conv.channel_complaints.order_by("id"), now=timezone.now())


@login_required
@require_safe
def conversation_messages(request, conversation_id: int):
    """New messages after `after` (the last id the page shows), for the page's refresh script."""
    conv = selectors.buyer_conversation(conversation_id, request.user)
    return _messages_json(request, conv, for_staff=False)


def _messages_json(request, conv, *, for_staff: bool):
    try:
        after = max(int(request.GET.get("after", "0")), 0)
    except ValueError:
        after = 0
    services.mark_read(conversation=conv, reader=request.user)
    items = _transcript(conv, for_staff=for_staff, viewer=request.user, after=after)
    for item in items:
        item["at_shown"] = local(item["at"])
        item["at"] = item["at"].isoformat()
    return JsonResponse(
        {"state": conv.get_state_display(), "messages": items}, json_dumps_params={"ensure_ascii": False}
    )


# --- agents -----------------------------------------------------------------------------------------


@role_required(*ANSWERING_ROLES)
@require_safe
def staff_queue(request):
    """The desk: everything waiting for staff, most urgent first; the filters narrow it (a plain GET
    form; with htmx only the list is redrawn)."""
    services.set_presence(agent=request.user)
    filters = desk.Filters.parse(request.GET)
    items = desk.queue(user=request.user, filters=filters)
    context = {
        "items": items[:QUEUE_SHOWN],
        "total": len(items),
        "filters": filters,
        "wait": wait.estimate(),
        "channels": Channel.choices,
        "goods_kinds": GoodsKind.choices,
        "sellers": Seller.objects.order_by("name").values_list("pk", "name")[:200],
        "kinds": DESK_KINDS,
        "departments": Department.choices,
        "cap": routing.agent_cap(),
        "mine_count": routing.loads([request.user.pk]).get(request.user.pk, 0),
    }
    if request.htmx:
        return render(request, "support/_desk_items.html", context)
    return render(request, "support/staff_queue.html", context)


@role_required(*ANSWERING_ROLES)
@require_POST
def staff_next(request):
    """接下一个: the most urgent waiting conversation this agent has a skill for."""
    try:
        conv = desk.assign_next(agent=request.user)
    except SupportError as e:
        flash.error(request, str(e))
        return redirect("support:staff_queue")
    if conv is None:
        flash.info(request, _("现在没有您可以接待的等待中会话。"))
        return redirect("support:staff_queue")
    return redirect("support:staff_conversation", conversation_id=conv.pk)


@role_required(*ANSWERING_ROLES)
def staff_conversation(request, conversation_id: int):
    conv = selectors.staff_conversation(conversation_id, request.user)
    if request.method == "POST":
        action = request.POST.get("action", "reply")
        try:
            if action == "call":
                return _log_call(request, conv)
            if action == "keep":
                commitment_id = request.POST.get("commitment", "")
                commitments.keep(
                    conversation_id=conv.pk,
                    commitment_id=int(commitment_id) if commitment_id.isdigit() else 0,
                    agent=request.user,
                )
            elif action == "channel_reply":
                complaint_id = request.POST.get("complaint", "")
                reply_to_channel(
                    complaint_id=int(complaint_id) if complaint_id.isdigit() else 0,
                    agent=request.user,
                    text=request.POST.get("channel_reply", ""),
                    conversation_id=conv.pk,
                )
                flash.success(request, _("回复已提交，正在发送到支付渠道。"))
            elif action == "claim":
                services.claim(conversation_id=conv.pk, agent=request.user)
            elif action == "close":
                services.close(conversation_id=conv.pk, user=request.user)
            elif action == "transfer":
                desk.transfer(
                    conversation_id=conv.pk,
                    agent=request.user,
                    department=request.POST.get("department", ""),
                    reason=request.POST.get("reason", ""),
                )
                flash.success(request, _("已转交。"))
            else:
                services.post_message(
                    conversation_id=conv.pk,
                    author=request.user,
                    body=request.POST.get("body", ""),
                    client_id=request.POST.get("client_id", ""),
                    internal=request.POST.get("internal") == "1",
                    attachments=_uploaded(request),
                )
        except (SupportError, attachments.AttachmentError) as e:
            flash.error(request, str(e))
            if action == "reply":  # the draft stays in the box: nothing the agent wrote is lost
                return _staff_page(request, conv, CallForm(), draft=request.POST.get("body", ""))
        return redirect("support:staff_conversation", conversation_id=conv.pk)
    services.set_presence(agent=request.user)
    services.mark_read(conversation=conv, reader=request.user)
    return _staff_page(request, conv, CallForm(), draft=_canned_draft(request, conv))


def _canned_draft(request, conv) -> str:
    """`?canned=<id>`: that canned reply filled in for this conversation, for the reply box."""
    raw = request.GET.get("canned", "")
    if not raw.isdigit() or len(raw) > 18:
        return ""
    reply = canned.replies().filter(pk=int(raw)).first()
    if reply is None:
        return ""
    return canned.fill(reply.text, canned.values_for(conv, request.user))


def _log_call(request, conv):
    form = CallForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            due = None
            if data["promise"]:
                due = commitments.due_from(at=data["due_at"], working_days=data["working_days"])
            commitments.log_call(
                conversation_id=conv.pk,
                agent=request.user,
                direction=data["direction"],
                number=data["number"],
                summary=data["summary"],
                promise=data["promise"],
                due=due,
            )
        except SupportError as e:
            form.add_error(None, str(e))
        else:
            return redirect("support:staff_conversation", conversation_id=conv.pk)
    return _staff_page(request, conv, form)


def _staff_page(request, conv, call_form, draft: str = ""):
    case = refunds.cases().filter(order_id=conv.order_id).order_by("-id").first() if conv.order_id else None
    transcript = _transcript(conv, for_staff=True, viewer=request.user)
    return render(
        request,
        "support/staff_conversation.html",
        {
            **workspace.facts(conv),
            "draft": draft,
            "unfilled": canned.unfilled(draft),
            "canned_replies": canned.replies(),
            "departments": Department.choices,
            "calls": conv.calls.select_related("agent"),
            "call_form": call_form,
            "commitments": conv.commitments.select_related("agent").order_by("due_at"),
            "open_state": Commitment.State.OPEN,
            "conversation": conv,
            "transcript": transcript,
            "last_id": transcript[-1]["id"] if transcript else 0,
            "case": case,
            "shown": progress(case) if case else None,
            "client_id": uuid.uuid4().hex,
            "max_length": services.MESSAGE_MAX,
            "poll_url": f"/support/staff/c/{conv.pk}/messages/",
            "complaint_rows": _complaint_rows(conv),
            "reply_max": REPLY_MAX,
            "flagged_mails": conv.inbound_mails.filter(Q(needs_review=True) | Q(throttled=True)).defer("raw"),
            "mail_to": getattr(services.answered_mail(conv), "sender", ""),
            "ws_url": f"/ws/support/c/{conv.pk}/",
            "own": "agent",
        },
    )


@role_required(*ANSWERING_ROLES)
@require_safe
def staff_conversation_messages(request, conversation_id: int):
    conv = selectors.staff_conversation(conversation_id, request.user)
    return _messages_json(request, conv, for_staff=True)


# --- WeChat official account ---------------------------------------------------------------------------


def _plain(text: str, status: int = 200) -> HttpResponse:
    return HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def wechat_door(request):
    """WeChat's server URL (SPEC §12). GET is WeChat's echo check; POST a message, kept at once and
    answered "success" (the reply goes out later by the customer-service interface). Every request is
    signed with the shared token; the log says what was refused, never the token or the signature."""
    token = settings.WECHAT_TOKEN
    if not token:
        log.warning("wechat: a request came but KAMENG_WECHAT_TOKEN is not set")
        return _plain("wechat channel not configured", 503)
    q = request.GET
    timestamp, nonce = q.get("timestamp", ""), q.get("nonce", "")
    if not wechat_protocol.signed(token, q.get("signature", ""), timestamp, nonce):
        log.warning("wechat: refused a request with a wrong or missing signature (%s)", request.method)
        return _plain("invalid signature", 403)
    if request.method != "POST":
        # The echo check changes nothing, so a replayed one is harmless: only messages are time-boxed.
        return _plain(q.get("echostr", ""))
    if not wechat_protocol.fresh(timestamp):
        log.warning("wechat: refused a signed message with an old or future timestamp (replay)")
        return _plain("stale timestamp", 403)
    try:
        length = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        length = 0
    if length > wechat_protocol.MAX_BODY:
        log.warning("wechat: refused a body of %d bytes", length)
        return _plain("body too large", 413)
    body = request.body
    if len(body) > wechat_protocol.MAX_BODY:
        return _plain("body too large", 413)
    try:
        incoming = wechat_protocol.parse(body)
    except wechat_protocol.Malformed as e:
        log.warning("wechat: refused a malformed message: %s", e)
        return _plain("malformed message", 400)
    inbound, new = wechat.receive(incoming=incoming, raw=body)
    if not new:
        log.info("wechat: message %s came again; kept once", inbound.pk)
    return _plain("success")


@login_required
def wechat_binding(request):
    """绑定微信公众号: a code to send to the official account, the binding there is, unbinding."""
    code = None
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "code":
            try:
                code = wechat.new_bind_code(buyer=request.user)
            except SupportError as e:
                flash.error(request, str(e))
        elif action == "unbind":
            if wechat.unbind(buyer=request.user):
                flash.success(request, _("已解除微信绑定。微信里的新消息不会再进入您的会话。"))
            return redirect("support:wechat")
        else:
            flash.error(request, _("请求无效，请重试。"))
            return redirect("support:wechat")
    return render(
        request,
        "support/wechat.html",
        {
            "binding": WeChatBinding.objects.filter(buyer=request.user).first(),
            "code": code,
            "official": registry.contacts(),
            "minutes": int(wechat.CODE_TTL.total_seconds() // 60),
        },
    )
