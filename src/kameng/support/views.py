"""Customer-service pages: the help centre (public), a buyer's conversation (chat that works with a
plain form POST and refreshes itself with a small script), and the agents' queue and conversation."""

import uuid

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST, require_safe

from kameng.accounts.permissions import role_required
from kameng.accounts.templatetags.kameng import local
from kameng.orders.models import Order
from kameng.refunds import selectors as refunds
from kameng.refunds.progress import progress

from . import commitments, selectors, services, wait
from .forms import CallbackForm, CallForm
from .models import Answer, Commitment, ConversationState
from .services import ANSWERING_ROLES, SupportError

OFFICIAL = {"email": "support@kameng.local", "hotline": "400-820-6166", "wechat": "卡盟官方服务号"}


@require_safe
def help_centre(request):
    context = {
        "answers": Answer.objects.filter(is_active=True),
        "wait": wait.estimate(),
        "official": OFFICIAL,
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


def _transcript(conversation, *, for_staff: bool, after: int = 0) -> list[dict]:
    return [
        {
            "id": m.pk,
            "author": m.author_kind,
            "author_label": m.get_author_kind_display(),
            "agent_no": m.author.agent_no if m.author_id and m.author_kind == "agent" else "",
            "text": m.text,
            "link": m.link,
            "internal": m.internal,
            "channel": m.get_channel_display(),
            "at": m.created_at,
            "read": m.read_at is not None,
        }
        for m in selectors.messages_of(conversation, for_staff=for_staff, after=after)
    ]


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
                )
        except SupportError as e:
            flash.error(request, str(e))
            return render(
                request,
                "support/conversation.html",
                _buyer_context(request, conv, draft=request.POST.get("body", "")),
            )
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
    transcript = _transcript(conv, for_staff=False)
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
        "official": OFFICIAL,
        "callback_form": callback_form or CallbackForm(),
    }


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
    items = _transcript(conv, for_staff=for_staff, after=after)
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
    services.set_presence(agent=request.user)
    waiting, held = selectors.queue()
    return render(
        request,
        "support/staff_queue.html",
        {"waiting": waiting[:100], "held": held[:100], "wait": wait.estimate()},
    )


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
            elif action == "claim":
                services.claim(conversation_id=conv.pk, agent=request.user)
            elif action == "close":
                services.close(conversation_id=conv.pk, user=request.user)
            else:
                services.post_message(
                    conversation_id=conv.pk,
                    author=request.user,
                    body=request.POST.get("body", ""),
                    client_id=request.POST.get("client_id", ""),
                    internal=request.POST.get("internal") == "1",
                )
        except SupportError as e:
            flash.error(request, str(e))
        return redirect("support:staff_conversation", conversation_id=conv.pk)
    services.set_presence(agent=request.user)
    services.mark_read(conversation=conv, reader=request.user)
    return _staff_page(request, conv, CallForm())


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


def _staff_page(request, conv, call_form):
    case = refunds.cases().filter(order_id=conv.order_id).order_by("-id").first() if conv.order_id else None
    transcript = _transcript(conv, for_staff=True)
    return render(
        request,
        "support/staff_conversation.html",
        {
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
            "ws_url": f"/ws/support/c/{conv.pk}/",
            "own": "agent",
        },
    )


@role_required(*ANSWERING_ROLES)
@require_safe
def staff_conversation_messages(request, conversation_id: int):
    conv = selectors.staff_conversation(conversation_id, request.user)
    return _messages_json(request, conv, for_staff=True)
