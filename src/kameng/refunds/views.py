"""Refund pages: parse, authorize, call a service, render. Every change goes through `services`."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from kameng.accounts.models import Role
from kameng.accounts.permissions import has_role, role_required
from kameng.orders.selectors import orders_with_facts
from kameng.payments.models import PaymentStatus

from . import lists, policy, selectors, services, verification
from .actions import review
from .actions.appeals import check_contest, seller_contested
from .actions.common import may
from .actions.finance import check_finance_review
from .actions.seller import check_seller_answer
from .forms import CHANNELS, AmountError, RefundRequestForm, cents_to_yuan_text, parse_yuan
from .models import Demand, EventKind, Holder, Reason, RefundTo, Stage
from .policy import ClauseNo
from .progress import progress
from .services import EvidenceFile, RefundError

STAFF = (Role.AGENT, Role.SUPERVISOR, Role.FINANCE, Role.ADMIN)
FILERS = (Role.AGENT, Role.SUPERVISOR)  # who may file a request on a buyer's behalf
INLINE_TYPES = ("image/", "video/", "audio/", "application/pdf")


# --- the request form -----------------------------------------------------------------------------


def _order_for_request(request, order_no: str):
    """The order and whether an agent files on the buyer's behalf; anyone else gets 404."""
    order = orders_with_facts().filter(no=order_no).first()
    if order is None:
        raise Http404
    if order.buyer_id == request.user.pk:
        return order, False
    wants_behalf = (request.GET.get("on_behalf") or request.POST.get("on_behalf")) == "1"
    if wants_behalf and has_role(request.user, *FILERS):
        return order, True
    raise Http404


def _evidence_from(request, checklist: list[dict]) -> list[EvidenceFile]:
    files = []
    for item in checklist:
        files += [
            EvidenceFile(item=item["code"], file=f) for f in request.FILES.getlist(f"evidence_{item['code']}")
        ]
    files += [EvidenceFile(item="other", file=f) for f in request.FILES.getlist("evidence_other")]
    return files


def _same_text(a: str, b: str) -> bool:
    """Browsers send line breaks as CRLF; compare what the person sees."""
    return a.replace("\r\n", "\n").strip() == b.replace("\r\n", "\n").strip()


def _request_context(request, order, *, on_behalf: bool, values: dict, files_dropped: bool = False) -> dict:
    reason = values.get("reason") if values.get("reason") in Reason.values else ""
    demand = values.get("demand") if values.get("demand") in Demand.values else Demand.FULL_REFUND
    amount_cents = order.amount
    if demand == Demand.PARTIAL_REFUND and values.get("amount"):
        try:
            amount_cents = min(parse_yuan(values["amount"]), order.amount)
        except AmountError:
            amount_cents = order.amount
    checklist = policy.evidence_items(reason, order.kind) if reason else []
    draft = ""
    if reason:
        draft = verification.draft_statement_for(order, reason=reason, demand=demand, amount=amount_cents)
    statement = values.get("statement", "")
    # The statement follows the reason and demand until the buyer edits it.
    if not statement.strip() or _same_text(statement, values.get("draft_shown", "")):
        statement = draft
    payments = [p for p in order.payments.all() if p.status == PaymentStatus.SUCCEEDED]
    return {
        "order": order,
        "payments": payments,
        "on_behalf": on_behalf,
        "reasons": Reason.choices,
        "demands": Demand.choices,
        "refund_tos": RefundTo.choices,
        "channels": CHANNELS,
        "reason": reason,
        "demand": demand,
        "amount": values.get("amount", ""),
        "refund_to": values.get("refund_to")
        if values.get("refund_to") in RefundTo.values
        else RefundTo.BALANCE,
        "channel": values.get("channel") or ("phone" if on_behalf else "web"),
        "description": values.get("description", ""),
        "statement": statement,
        "draft": draft,
        "checklist": checklist,
        "checklist_note": policy.checklist_text(reason, order.kind) if reason else "",
        "files_dropped": files_dropped,
        "existing": selectors.open_case_for_order(order),
        "refundable": selectors.may_request_refund(order),
        "safety": policy.clause(ClauseNo.REFUND_ROUTE),
    }


@login_required
def new_request(request, order_no: str):
    order, on_behalf = _order_for_request(request, order_no)
    if request.method != "POST":
        values = {
            k: request.GET.get(k, "")[:5000]
            for k in ("reason", "demand", "amount", "refund_to", "description")
        }
        values["channel"] = request.GET.get("channel", "")
        return render(
            request, "refunds/new.html", _request_context(request, order, on_behalf=on_behalf, values=values)
        )

    post = request.POST
    values = {
        k: post.get(k, "")
        for k in (
            "reason",
            "demand",
            "amount",
            "refund_to",
            "description",
            "statement",
            "draft_shown",
            "channel",
        )
    }
    files_sent = bool(request.FILES)
    if "preview" in post:  # the no-JS way to refresh the checklist and the draft
        ctx = _request_context(request, order, on_behalf=on_behalf, values=values, files_dropped=files_sent)
        return render(request, "refunds/new.html", ctx)

    form = RefundRequestForm(post)
    if not form.is_valid():
        messages.error(request, _("请按标出的提示修改后再提交。"))
        ctx = _request_context(request, order, on_behalf=on_behalf, values=values, files_dropped=files_sent)
        ctx["errors"] = form.errors
        return render(request, "refunds/new.html", ctx, status=400)
    data = form.cleaned_data
    checklist = policy.evidence_items(data["reason"], order.kind)
    statement = data["statement"]
    if _same_text(statement, values["draft_shown"]):
        statement = ""  # untouched draft: let the engine write it from the facts it verifies now
    try:
        case = services.submit_refund(
            order=order,
            actor=request.user,
            reason=data["reason"],
            demand=data["demand"],
            amount=data["amount"] if data["demand"] == Demand.PARTIAL_REFUND else None,
            description=data["description"],
            statement=statement,
            evidence=_evidence_from(request, checklist),
            refund_to=data["refund_to"],
            channel=(data.get("channel") or "phone") if on_behalf else "web",
        )
    except RefundError as e:
        messages.error(request, str(e))
        ctx = _request_context(request, order, on_behalf=on_behalf, values=values, files_dropped=files_sent)
        return render(request, "refunds/new.html", ctx, status=400)
    case.refresh_from_db()
    if case.stage == Stage.REFUNDED:
        messages.success(request, _("已退款 ¥%(a)s。") % {"a": cents_to_yuan_text(case.amount_approved)})
    else:
        messages.success(request, _("退款申请已提交（编号 #%(id)d）。") % {"id": case.pk})
    if on_behalf:
        return redirect("refunds:staff_detail", case_id=case.pk)
    return redirect("refunds:detail", case_id=case.pk)


# --- buyer ----------------------------------------------------------------------------------------


@login_required
def my_cases(request):
    page = Paginator(lists.cases_of_buyer(request.user), 20).get_page(request.GET.get("page"))
    for case in page:
        case.box = selectors.status_box(case, viewer_is_buyer=True)
    return render(request, "refunds/my_cases.html", {"cases": page})


def _case_context(case, *, viewer_is_buyer: bool, messages_for: str | None = None) -> dict:
    payouts = selectors.payouts_of(case)
    return {
        "case": case,
        "progress": progress(case, viewer_is_buyer=viewer_is_buyer),
        "box": selectors.status_box(case, viewer_is_buyer=viewer_is_buyer),
        "facts": selectors.facts_rows(case),
        "attachments": list(case.attachments.select_related("uploaded_by")),
        "timeline": selectors.timeline(case, viewer_is_buyer=viewer_is_buyer, messages_for=messages_for),
        "payouts": payouts,
        "destination": selectors.refund_destination(case, payouts),
        "offer": selectors.offer_text(case),
        "safety": policy.clause(ClauseNo.REFUND_ROUTE),
    }


@login_required
@require_safe
def case_detail(request, case_id: int):
    case = selectors.case_for_viewer(case_id, request.user)
    if case.buyer_id != request.user.pk:
        if case.seller.owner_id == request.user.pk:
            return redirect("refunds:seller_detail", case_id=case.pk)
        return redirect("refunds:staff_detail", case_id=case.pk)
    ctx = _case_context(case, viewer_is_buyer=True, messages_for="buyer")
    ctx["can"] = selectors.buyer_actions(case, request.user)
    return render(request, "refunds/detail.html", ctx)


BUYER_ACTIONS = {"material", "cancel", "follow_up", "appeal", "accept_offer", "decline_offer"}


@login_required
@require_POST
def buyer_action(request, case_id: int):
    case = selectors.buyer_case(case_id, request.user)
    action = request.POST.get("action", "")
    note = request.POST.get("note", "")
    try:
        if action == "material":
            files = [EvidenceFile(item="material", file=f) for f in request.FILES.getlist("files")]
            services.add_material(case_id=case.pk, buyer=request.user, note=note, evidence=files)
            messages.success(request, _("材料已提交。"))
        elif action == "cancel":
            services.cancel(case_id=case.pk, buyer=request.user)
            messages.success(request, _("申请已撤销。"))
        elif action == "follow_up":
            services.follow_up(case_id=case.pk, buyer=request.user)
            messages.success(request, _("已提醒当前处理方尽快处理。"))
        elif action == "appeal":
            services.appeal(case_id=case.pk, buyer=request.user, note=note)
            messages.success(request, _("申诉已提交，由客服主管复核。"))
        elif action in ("accept_offer", "decline_offer"):
            services.buyer_answer_offer(case_id=case.pk, buyer=request.user, accept=action == "accept_offer")
            messages.success(
                request, _("已接受卖家方案。") if action == "accept_offer" else _("已拒绝，转平台审核。")
            )
        else:
            messages.error(request, _("未知操作。"))
    except RefundError as e:
        messages.error(request, str(e))
    return redirect("refunds:detail", case_id=case.pk)


@login_required
def attachment(request, case_id: int, attachment_id: int):
    case = selectors.case_for_viewer(case_id, request.user)
    att = case.attachments.filter(pk=attachment_id).first()
    if att is None:
        raise Http404
    try:
        fh = att.file.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404 from None
    inline = att.content_type.startswith(INLINE_TYPES)
    response = FileResponse(
        fh,
        as_attachment=not inline,
        filename=att.original_name.rsplit("/", 1)[-1],
        content_type=att.content_type if inline else "application/octet-stream",
    )
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; media-src 'self'; sandbox"
    return response


# --- seller ---------------------------------------------------------------------------------------


@role_required(Role.SELLER)
def seller_cases(request):
    page = Paginator(lists.cases_of_seller(request.user), 20).get_page(request.GET.get("page"))
    for case in page:
        case.time_left = selectors.time_left(case.deadline_at) if case.is_open else ""
        case.waiting = case.stage == Stage.AWAITING_SELLER and not case.seller_offer
    return render(request, "refunds/seller_list.html", {"cases": page})


SELLER_ACTIONS = {"agree", "refuse", "offer_partial", "offer_replacement", "contest"}


@role_required(Role.SELLER)
def seller_detail(request, case_id: int):
    case = selectors.seller_case(case_id, request.user)
    if request.method == "POST":
        _seller_act(request, case)
        return redirect("refunds:seller_detail", case_id=case.pk)
    ctx = _case_context(case, viewer_is_buyer=False)
    ctx["can_answer"] = may(check_seller_answer, case, request.user)
    ctx["can_contest"] = may(check_contest, case, request.user)
    ctx["requested_yuan"] = cents_to_yuan_text(case.amount_requested)
    return render(request, "refunds/seller_detail.html", ctx)


def _seller_act(request, case) -> None:
    action = request.POST.get("action", "")
    note = request.POST.get("note", "")
    try:
        if action == "agree":
            services.seller_agree(case_id=case.pk, seller_user=request.user, note=note)
            messages.success(request, _("已同意退款。"))
        elif action == "refuse":
            files = [EvidenceFile(item="seller_evidence", file=f) for f in request.FILES.getlist("files")]
            services.seller_refuse(case_id=case.pk, seller_user=request.user, note=note, evidence=files)
            messages.success(request, _("已拒绝，申请转平台审核。"))
        elif action == "offer_partial":
            try:
                amount = parse_yuan(request.POST.get("amount"))
            except AmountError as e:
                messages.error(request, str(e), extra_tags="field:offer-amount")
                return
            services.seller_offer(
                case_id=case.pk, seller_user=request.user, offer="partial", amount=amount, note=note
            )
            messages.success(request, _("方案已发给买家确认。"))
        elif action == "contest":
            services.contest(case_id=case.pk, seller_user=request.user, note=note)
            messages.success(request, _("申诉已提交，由客服主管复核。"))
        elif action == "offer_replacement":
            services.seller_offer(case_id=case.pk, seller_user=request.user, offer="replacement", note=note)
            messages.success(request, _("方案已发给买家确认。"))
        else:
            messages.error(request, _("未知操作。"))
    except (RefundError, AmountError) as e:
        messages.error(request, str(e))


# --- staff ----------------------------------------------------------------------------------------


@role_required(*STAFF)
def staff_queue(request):
    stage = request.GET.get("stage", "")
    page = Paginator(lists.staff_queue(stage=stage), 50).get_page(request.GET.get("page"))
    for case in page:
        case.holder_text = selectors.holder_label(case)
        case.time_left = selectors.time_left(case.deadline_at) if case.deadline_at and case.is_open else ""
    return render(
        request,
        "refunds/staff_queue.html",
        {"cases": page, "stage": stage if stage in Stage.values else "", "stages": Stage.choices},
    )


@role_required(*STAFF)
def staff_detail(request, case_id: int):
    case = selectors.cases().filter(pk=case_id).first()
    if case is None:
        raise Http404
    if request.method == "POST":
        confirm = _confirm_step(request, case)
        if confirm is not None:
            return confirm
        _staff_act(request, case)
        return redirect("refunds:staff_detail", case_id=case.pk)
    user = request.user
    ctx = _case_context(case, viewer_is_buyer=False, messages_for="staff")
    ctx["follow_ups"] = sum(1 for item in ctx["timeline"] if item["kind"] == EventKind.FOLLOW_UP)
    ctx["held_notes"] = selectors.held_seller_notes(case)
    appealed = case.stage == Stage.APPEALED
    ctx.update(
        {
            # An appeal is the supervisor's: an agent (maybe the one who rejected it) may not take it.
            # The engine's own rules (refunds.actions), asked on this read of the case.
            "can_claim": may(review.check_claim, case, user),
            "can_request_info": may(review.check_request_info, case, user),
            "can_decide": may(review.check_decide, case, user),
            "appeal_needs_supervisor": appealed and not has_role(user, Role.SUPERVISOR),
            "seller_contested": appealed and seller_contested(case),
            "can_transfer": may(review.check_transfer, case, user),
            "can_finance": may(check_finance_review, case, user),
            "finance_waiting": case.stage == Stage.FINANCE_REVIEW and not has_role(user, Role.FINANCE),
            "clauses": selectors.current_clauses(),
            "default_clause": policy.basis_clause(case.reason, case.order.kind),
            "transfer_targets": [
                (h, Holder(h).label) for h in (Holder.TECH, Holder.FINANCE, Holder.SUPERVISOR)
            ],
            "max_yuan": cents_to_yuan_text(case.amount_requested),
        }
    )
    return render(request, "refunds/staff_detail.html", ctx)


def _staff_act(request, case) -> None:
    action = request.POST.get("action", "")
    note = request.POST.get("note", "")
    user = request.user
    try:
        if action == "claim":
            services.claim(case_id=case.pk, agent=user)
            messages.success(request, _("已认领。"))
        elif action == "request_info":
            services.request_info(case_id=case.pk, agent=user, note=note)
            messages.success(request, _("已请买家补充材料，审核计时暂停。"))
        elif action == "decide":
            decision, clause_number, extra = _decision_from(request)
            if decision in services.PAYING:
                raw = request.POST.get("confirmed_amount", "")
                extra["confirmed_amount"] = int(raw) if raw.isdigit() and len(raw) < 16 else None
            services.DECISIONS[decision](
                case_id=case.pk, agent=user, clause_number=clause_number, note=note, **extra
            )
            messages.success(request, _("已处理。"))
        elif action == "transfer":
            services.transfer(case_id=case.pk, agent=user, to=request.POST.get("to", ""), reason=note)
            messages.success(request, _("已转交。"))
        elif action in ("finance_approve", "finance_return"):
            services.finance_decide(
                case_id=case.pk, user=user, approve=action == "finance_approve", note=note
            )
            messages.success(
                request, _("复核已通过，正在退款。") if action == "finance_approve" else _("已退回审核。")
            )
        else:
            messages.error(request, _("未知操作。"))
    except (RefundError, AmountError) as e:
        messages.error(request, str(e))


def _decision_from(request) -> tuple[str, int | None, dict]:
    """The decision form's choice, clause and (for a partial refund) amount, checked."""
    decision = request.POST.get("decision", "")
    if decision not in services.DECISIONS:
        raise RefundError(_("请选择处理结果。"))
    raw_clause = request.POST.get("clause", "")
    clause_number = int(raw_clause) if raw_clause.isdigit() and len(raw_clause) < 4 else None
    if raw_clause and clause_number is None:
        raise RefundError(_("条款号无效。"))
    extra = {"amount": parse_yuan(request.POST.get("amount"))} if decision == "partial" else {}
    return decision, clause_number, extra


def _confirm_step(request, case):
    """A decision that pays is shown first with the amount and where it goes; only the form on
    that page (which carries the confirmed amount) decides. Anything wrong goes back with a message."""
    post = request.POST
    if post.get("action") != "decide" or post.get("decision") not in services.PAYING:
        return None
    if "confirmed_amount" in post:
        return None
    try:
        decision, clause_number, extra = _decision_from(request)
        if not post.get("note", "").strip():
            raise RefundError(_("请填写处理意见（买家会看到）。"))
        shown = services.preview_decision(case=case, agent=request.user, decision=decision, **extra)
    except (RefundError, AmountError) as e:
        messages.error(request, str(e))
        return redirect("refunds:staff_detail", case_id=case.pk)
    return render(
        request,
        "refunds/staff_confirm.html",
        {"case": case, "shown": shown, "post": post, "decision": decision, "clause_number": clause_number},
    )
