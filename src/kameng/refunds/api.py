"""Refund cases over JSON: every action the pages offer, for buyers, sellers, staff and scripts.

Thin: parse, authorize (someone else's case is a 404; the wrong side of one's own case is a 403),
call `services`, render the case. The services re-check every right under their locks.
"""

from dataclasses import asdict

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import File, Form, Query, Router, Status
from ninja.errors import HttpError
from ninja.files import UploadedFile

from kameng.accounts.models import Role
from kameng.accounts.permissions import is_staff_member
from kameng.apitypes import paged
from kameng.evidence.models import Event
from kameng.orders.models import Order

from . import lists, policy, services, verification
from .api_output import brief, head, render
from .models import Clause, Demand, RefundCase
from .reconciliation import payout_lines
from .schemas import (
    ERRORS,
    CaseBriefOut,
    CaseId,
    CaseOut,
    ChecklistOut,
    ChecklistQuery,
    ClauseOut,
    DecideIn,
    EvidenceForm,
    FinanceIn,
    NoteIn,
    OfferAnswerIn,
    PayoutOut,
    PreviewOut,
    PreviewQuery,
    QueueQuery,
    RefuseForm,
    SellerOfferIn,
    SubmitForm,
    SubmitIn,
    SubmittedOut,
    TransferIn,
)

router = Router(tags=["refunds"])

# --- helpers ------------------------------------------------------------------------------------------


def _cases():
    return RefundCase.objects.select_related("order__product", "seller", "holder_user", "buyer")


def _call(fn, **kwargs):
    try:
        return fn(**kwargs)
    except services.NotFound as e:
        raise HttpError(404, str(e)) from e
    except services.RefundError as e:
        raise HttpError(400, str(e)) from e


def _is_staff(user) -> bool:
    return is_staff_member(user)


def _visible_case(request, case_id: int) -> RefundCase:
    """A case the caller may see: their own, one on their shop's orders, or any for staff."""
    case = get_object_or_404(_cases(), pk=case_id)
    user = request.user
    if case.buyer_id == user.pk or case.seller.owner_id == user.pk or _is_staff(user):
        return case
    raise HttpError(404, _("退款申请不存在。"))


def _as_buyer(request, case_id: int) -> RefundCase:
    case = _visible_case(request, case_id)
    if case.buyer_id != request.user.pk:
        raise HttpError(403, _("只有买家本人可以执行该操作。"))
    return case


def _as_seller(request, case_id: int) -> RefundCase:
    case = _visible_case(request, case_id)
    if case.seller.owner_id != request.user.pk:
        raise HttpError(403, _("只有该订单的卖家可以执行该操作。"))
    return case


def _as_staff(request, case_id: int, *roles: str) -> RefundCase:
    case = _visible_case(request, case_id)
    if not request.user.has_role(*(roles or (Role.AGENT, Role.SUPERVISOR))):
        raise HttpError(403, _("您没有处理退款申请的权限。"))
    return case


def _detail(case_id: int) -> dict:
    case = _cases().get(pk=case_id)
    events = Event.objects.filter(stream=case.stream).select_related("actor").order_by("seq")
    return render(case, events, case.attachments.select_related("uploaded_by"))


def _files(item: str, uploads) -> list[services.EvidenceFile]:
    return [services.EvidenceFile(item=item, file=f) for f in uploads or []]


# --- reading --------------------------------------------------------------------------------------------


class Briefs:
    """A page's cases rendered as briefs: what the paginator slices and counts."""

    def __init__(self, queryset):
        self.queryset = queryset

    def __len__(self) -> int:
        return self.queryset.count()

    def __getitem__(self, window: slice) -> list[dict]:
        return [brief(c) for c in self.queryset[window]]


@router.get("", response={200: list[CaseBriefOut], **ERRORS})
@paged
def cases(request, filters: Query[QueueQuery]):
    """My cases (as buyer or as seller), newest first. Staff get the queue of open cases, most
    urgent first (soonest deadline, then the largest amount). Paged: `page` (from 1) and
    `page_size` (default 50, at most 100); `count` is the number of cases on all pages."""
    user = request.user
    qs = lists.staff_queue() if _is_staff(user) else lists.cases_of_party(user)
    if filters.stage:
        qs = qs.filter(stage=filters.stage)
    return Briefs(qs)


@router.get("/clauses", auth=None, response={200: list[ClauseOut]})
def clauses(request):
    """The current 《虚拟商品退款条款》 (public)."""
    return [
        {
            "number": c.number,
            "version": c.version,
            "ref": c.ref,
            "title": c.title,
            "body": c.body,
            "params": c.params,
        }
        for c in Clause.objects.filter(is_current=True).order_by("number")
    ]


@router.get("/checklist", response={200: ChecklistOut, **ERRORS})
def checklist(request, query: Query[ChecklistQuery]):
    """What to hand in for this reason on this order, and the drafted 事实+依据 statement."""
    order = get_object_or_404(Order.objects.select_related("product", "seller"), no=query.order_no)
    if order.buyer_id != request.user.pk and not request.user.has_role(Role.AGENT, Role.SUPERVISOR):
        raise HttpError(404, _("订单不存在。"))
    amount = query.amount if query.demand == Demand.PARTIAL_REFUND and query.amount else order.amount
    return {
        "order_no": order.no,
        "kind": order.kind,
        "reason": query.reason,
        "demand": query.demand,
        "amount": amount,
        "items": policy.evidence_items(query.reason, order.kind),
        "checklist": policy.checklist_text(query.reason, order.kind),
        "statement": verification.draft_statement_for(
            order, reason=query.reason, demand=query.demand, amount=amount
        ),
    }


@router.get("/reconciliation", response={200: list[PayoutOut], **ERRORS})
def reconciliation(request):
    """Every payout with its ledger transaction and gateway refund (finance and admin)."""
    if not request.user.has_role(Role.FINANCE, Role.ADMIN):
        raise HttpError(403, _("只有财务或管理员可以查看对账。"))
    return [{**asdict(line), "problems": line.problems} for line in payout_lines()]


# --- submitting -----------------------------------------------------------------------------------------


def _submit(request, payload: SubmitIn, evidence: list[services.EvidenceFile]):
    # The service finds the order under its lock and answers 404 unless it is the caller's own
    # (or the caller is an agent filing on the buyer's behalf).
    case = _call(
        services.submit_refund,
        order_no=payload.order_no,
        actor=request.user,  # an agent filing for the buyer is recorded as `created_by`
        reason=payload.reason,
        demand=payload.demand,
        amount=payload.amount,
        description=payload.description,
        statement=payload.statement,
        evidence=evidence,
        refund_to=payload.refund_to,
        channel=payload.channel or "api",
    )
    # Answered from what the call wrote (the same rows a GET would read back).
    return Status(201, {**head(case, case.attachments.all()), "url": f"/api/refunds/{case.pk}"})


@router.post("", response={201: SubmittedOut, **ERRORS})
def submit(request, payload: SubmitIn):
    """Ask for a refund (JSON, no files). Objective cases come back already refunded (stage
    `refunded`, the amount and the clause); the whole case, timeline included, is at `url`.
    When the reason needs evidence, use `/with-evidence`."""
    return _submit(request, payload, [])


@router.post("/with-evidence", response={201: SubmittedOut, **ERRORS})
def submit_with_evidence(request, payload: Form[SubmitForm], files: File[list[UploadedFile]] = None):
    """Ask for a refund with the evidence the checklist asks for (multipart)."""
    uploads = files or []
    items = [i.strip() for i in payload.items.split(",")] if payload.items else []
    if len(items) != len(uploads):
        raise HttpError(400, _("请为每个文件注明证据项（items 与 files 数量需一致）。"))
    evidence = [services.EvidenceFile(item=i, file=f) for i, f in zip(items, uploads, strict=True)]
    fields = payload.dict(exclude={"items"})
    fields["amount"] = fields["amount"] or None
    return _submit(request, SubmitIn(**fields), evidence)


# Registered after every fixed path ("/clauses", "/with-evidence"...) so none is read as an id.
@router.get("/{case_id}", response={200: CaseOut, **ERRORS})
def case_detail(request, case_id: CaseId):
    """The case as its page shows it: stage, holder, deadline, path, evidence and timeline."""
    _visible_case(request, case_id)
    return _detail(case_id)


# --- buyer --------------------------------------------------------------------------------------------


@router.post("/{case_id}/evidence", response={200: CaseOut, **ERRORS})
def add_evidence(request, case_id: CaseId, payload: Form[EvidenceForm], file: File[UploadedFile] = None):
    """Add one evidence file to a case (checked by its bytes, like the pages)."""
    case = _visible_case(request, case_id)
    if file is None:  # an empty part is dropped by the parser: say so rather than a bare 422
        raise HttpError(400, _("请选择要上传的文件。"))
    if case.buyer_id != request.user.pk:
        # The engine has no public "add evidence" for sellers and staff yet (seller_refuse takes files).
        raise HttpError(403, _("目前只有买家可以通过此接口补充证据；卖家拒绝退款时请随拒绝理由一并上传。"))
    _call(
        services.add_material,
        case_id=case.pk,
        buyer=request.user,
        note=payload.note,
        evidence=[services.EvidenceFile(item=payload.item, file=file)],
    )
    return _detail(case.pk)


@router.post("/{case_id}/cancel", response={200: CaseOut, **ERRORS})
def cancel(request, case_id: CaseId):
    _as_buyer(request, case_id)
    _call(services.cancel, case_id=case_id, buyer=request.user)
    return _detail(case_id)


@router.post("/{case_id}/follow-up", response={200: CaseOut, **ERRORS})
def follow_up(request, case_id: CaseId):
    """催一催: once per 24 hours per case."""
    _as_buyer(request, case_id)
    _call(services.follow_up, case_id=case_id, buyer=request.user)
    return _detail(case_id)


@router.post("/{case_id}/appeal", response={200: CaseOut, **ERRORS})
def appeal(request, case_id: CaseId, payload: NoteIn):
    _as_buyer(request, case_id)
    _call(services.appeal, case_id=case_id, buyer=request.user, note=payload.note)
    return _detail(case_id)


@router.post("/{case_id}/offer-answer", response={200: CaseOut, **ERRORS})
def offer_answer(request, case_id: CaseId, payload: OfferAnswerIn):
    """Accept or decline the seller's partial refund or replacement."""
    _as_buyer(request, case_id)
    _call(services.buyer_answer_offer, case_id=case_id, buyer=request.user, accept=payload.accept)
    return _detail(case_id)


@router.post("/{case_id}/material", response={200: CaseOut, **ERRORS})
def material(request, case_id: CaseId, payload: NoteIn):
    """Answer a request for more information (text; files go to `/evidence`)."""
    _as_buyer(request, case_id)
    _call(services.add_material, case_id=case_id, buyer=request.user, note=payload.note)
    return _detail(case_id)


# --- seller -------------------------------------------------------------------------------------------


@router.post("/{case_id}/seller/agree", response={200: CaseOut, **ERRORS})
def seller_agree(request, case_id: CaseId, payload: NoteIn):
    _as_seller(request, case_id)
    _call(services.seller_agree, case_id=case_id, seller_user=request.user, note=payload.note)
    return _detail(case_id)


@router.post("/{case_id}/seller/refuse", response={200: CaseOut, **ERRORS})
def seller_refuse(
    request, case_id: CaseId, payload: Form[RefuseForm], files: File[list[UploadedFile]] = None
):
    """Refuse with a reason and at least one evidence file (multipart); the case goes to review."""
    _as_seller(request, case_id)
    _call(
        services.seller_refuse,
        case_id=case_id,
        seller_user=request.user,
        note=payload.note,
        evidence=_files("seller_evidence", files),
    )
    return _detail(case_id)


@router.post("/{case_id}/seller/offer", response={200: CaseOut, **ERRORS})
def seller_offer(request, case_id: CaseId, payload: SellerOfferIn):
    _as_seller(request, case_id)
    _call(
        services.seller_offer,
        case_id=case_id,
        seller_user=request.user,
        offer=payload.offer,
        amount=payload.amount,
        note=payload.note,
    )
    return _detail(case_id)


@router.post("/{case_id}/seller/contest", response={200: CaseOut, **ERRORS})
def seller_contest(request, case_id: CaseId, payload: NoteIn):
    """Contest a refund or replacement decided against the shop (by staff, or by not answering in
    time), within the appeal window; a supervisor decides."""
    _as_seller(request, case_id)
    _call(services.contest, case_id=case_id, seller_user=request.user, note=payload.note)
    return _detail(case_id)


# --- staff --------------------------------------------------------------------------------------------


@router.post("/{case_id}/claim", response={200: CaseOut, **ERRORS})
def claim(request, case_id: CaseId):
    _as_staff(request, case_id)
    _call(services.claim, case_id=case_id, agent=request.user)
    return _detail(case_id)


@router.post("/{case_id}/request-info", response={200: CaseOut, **ERRORS})
def request_info(request, case_id: CaseId, payload: NoteIn):
    """Ask the buyer for specific material; the review clock stops meanwhile."""
    _as_staff(request, case_id)
    _call(services.request_info, case_id=case_id, agent=request.user, note=payload.note)
    return _detail(case_id)


@router.get("/{case_id}/decision-preview", response={200: PreviewOut, **ERRORS})
def decision_preview(request, case_id: CaseId, query: Query[PreviewQuery]):
    """What approving (or approving in part) would pay now and where to: confirm it by sending
    `confirmed_amount` with the decision."""
    case = _as_staff(request, case_id)
    shown = _call(
        services.preview_decision, case=case, agent=request.user, decision=query.decision, amount=query.amount
    )
    return {
        "confirmed_amount": shown.now,
        "total": shown.total,
        "destination": shown.destination,
        "finance_review": shown.finance,
    }


@router.post("/{case_id}/decide", response={200: CaseOut, **ERRORS})
def decide(request, case_id: CaseId, payload: DecideIn):
    """Approve, approve in part, replace or reject (on an appeal: uphold, or find for the seller
    who contested). Claim the case first. A decision that pays needs `confirmed_amount`, the
    amount `decision-preview` showed; it is refused if that is no longer what would leave."""
    _as_staff(request, case_id)
    extra = {"amount": payload.amount} if payload.decision == "partial" else {}
    if payload.decision in services.PAYING:
        if payload.confirmed_amount is None:
            raise HttpError(400, _("请先确认退款金额（confirmed_amount，见 decision-preview）。"))
        extra["confirmed_amount"] = payload.confirmed_amount
    _call(
        services.DECISIONS[payload.decision],
        case_id=case_id,
        agent=request.user,
        clause_number=payload.clause_number,
        note=payload.note,
        **extra,
    )
    return _detail(case_id)


@router.post("/{case_id}/transfer", response={200: CaseOut, **ERRORS})
def transfer(request, case_id: CaseId, payload: TransferIn):
    _as_staff(request, case_id)
    _call(services.transfer, case_id=case_id, agent=request.user, to=payload.to, reason=payload.reason)
    return _detail(case_id)


@router.post("/{case_id}/finance", response={200: CaseOut, **ERRORS})
def finance(request, case_id: CaseId, payload: FinanceIn):
    """The second approval of a large refund; never by the person who approved it."""
    _as_staff(request, case_id, Role.FINANCE)
    _call(
        services.finance_decide,
        case_id=case_id,
        user=request.user,
        approve=payload.approve,
        note=payload.note,
    )
    return _detail(case_id)
