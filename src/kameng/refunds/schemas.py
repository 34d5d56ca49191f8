"""The refund API's request and answer shapes (OpenAPI is generated from these)."""

from datetime import datetime
from typing import Annotated, Any, Literal

from ninja import Schema
from pydantic import BaseModel, Field, StrictBool

from kameng.apitypes import MAX_AMOUNT, MAX_ID, NO_NUL, json_int, text

from .models import Demand, Reason, RefundTo, Stage

CaseId = Annotated[int, Field(ge=1, le=MAX_ID)]
# Amounts are not bounded below here: "0 or less" is the engine's refusal, with its own message.
Amount = json_int(le=MAX_AMOUNT)
ClauseNumber = json_int(ge=1, le=99)


class ErrorOut(Schema):
    detail: str


class ValidationErrorOut(Schema):
    detail: str
    errors: list[dict[str, Any]]


ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ValidationErrorOut}


# --- output -------------------------------------------------------------------------------------------


class CaseBriefOut(BaseModel):
    id: int
    order_no: str
    product: str
    kind: str
    reason: str
    demand: str
    stage: str
    stage_label: str
    holder: str
    holder_agent_no: str | None
    deadline_at: datetime | None
    deadline_action: str
    amount_requested: int
    amount_approved: int | None
    created_at: datetime


class StepOut(BaseModel):
    key: str
    label: str
    state: Literal["done", "current", "todo", "skipped"]


class AttachmentOut(BaseModel):
    id: int
    item: str
    name: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: str
    created_at: datetime


class EventOut(BaseModel):
    seq: int
    kind: str
    at: datetime
    actor: str
    text: str  # the sentence the case page shows, so every channel tells the same story
    clause: str
    data: dict[str, Any]


class CountdownOut(Schema):
    deadline: datetime
    time_left: str
    holder: str
    task: str
    if_no_action: str


class ProgressOut(Schema):
    """The case's badge, holder line, lit step and countdown, computed together (as its page
    shows them, so they never disagree)."""

    badge: str
    badge_tone: str
    holder: str
    step: str
    countdown: CountdownOut | None


class SubmittedOut(CaseBriefOut):
    """What a submit answers: where the new case stands (an objective one already 已退款), in the
    words of its page's head; the statement, facts and timeline are at `url`."""

    holder_label: str
    stage_reason: str
    refund_to: str
    decision_clause: str
    closed_at: datetime | None
    path: list[StepOut]
    progress: ProgressOut
    appeal_until: datetime | None = Field(None, description="处理结果可申诉的截止时间")
    appealed_by: Literal["buyer", "seller"] | None = None
    attachments: list[AttachmentOut]
    url: str


class FactPaymentOut(Schema):
    out_trade_no: str
    amount: int
    method: str
    paid_at: str | None = None


class FactsOut(Schema):
    """The order facts verified when the case was filed, as shown to the buyer, the seller and
    staff alike (nothing internal to the engine is in here)."""

    order_no: str | None = None
    product: str | None = None
    kind: str | None = None
    quantity: int | None = None
    amount: int | None = None
    pay_method: str | None = None
    status: str | None = None
    paid_at: str | None = None
    payments: list[FactPaymentOut] = []
    successful_payments: int | None = None
    delivery_status: str | None = None
    delivered_at: str | None = None
    keys_assigned: int | None = None
    keys_viewed_at: str | None = None
    supplier_result: str | None = None
    activated_at: str | None = None
    escrow: int | None = Field(None, description="分；提交时订单仍可退的金额")
    verified: str | None = Field(None, description="系统核验的结论")


class CaseOut(CaseBriefOut):
    holder_label: str
    stage_reason: str
    refund_to: str
    description: str
    statement: str
    facts: FactsOut
    decision_clause: str
    decision_note: str
    seller: str
    seller_offer: str
    seller_offer_amount: int | None
    channel: str
    closed_at: datetime | None
    path: list[StepOut]
    progress: ProgressOut
    appeal_until: datetime | None = Field(None, description="处理结果可申诉的截止时间")
    appealed_by: Literal["buyer", "seller"] | None = None
    attachments: list[AttachmentOut]
    timeline: list[EventOut]


class EvidenceItemOut(Schema):
    code: str
    label: str


class ChecklistOut(Schema):
    order_no: str
    kind: str
    reason: str
    demand: str
    amount: int
    items: list[EvidenceItemOut]
    checklist: str
    statement: str


class ClauseOut(Schema):
    number: int
    version: int
    ref: str
    title: str
    body: str
    params: dict[str, Any]


class PayoutOut(Schema):
    payout_id: int
    case_id: int
    order_no: str
    amount: int
    method: str
    status: str
    ledger_key: str | None
    gateway_status: str | None
    gateway_refund_no: str
    created_at: datetime
    completed_at: datetime | None
    problems: list[str]


# --- input --------------------------------------------------------------------------------------------


class SubmitIn(Schema):
    order_no: str = Field(..., min_length=1, max_length=32, pattern=NO_NUL)
    reason: Reason
    demand: Demand = Demand.FULL_REFUND
    amount: Amount | None = Field(None, description="分；部分退款时必填")
    description: str = text(5000)
    statement: str = text(5000, description="事实+依据；留空则由系统起草")
    refund_to: RefundTo = RefundTo.BALANCE
    channel: str = text(20, "api", description="来源渠道：api、phone、email、chat……")


class NoteIn(Schema):
    note: str = text(2000)


class OfferAnswerIn(Schema):
    accept: StrictBool


class SellerOfferIn(Schema):
    offer: Literal["partial", "replacement"]
    amount: Amount | None = Field(None, description="分；部分退款时必填")
    note: str = text(500)


class RefuseForm(Schema):
    note: str = text(2000)


class EvidenceForm(Schema):
    item: str = text(40, description="证据项代码，见 /checklist")
    note: str = text(2000)


class DecideIn(Schema):
    decision: Literal["approve", "partial", "replace", "reject", "for_seller"]
    amount: Amount | None = Field(None, description="分；部分退款时必填（累计退款总额）")
    confirmed_amount: Amount | None = Field(
        None,
        description="分；同意退款与部分退款时必填：本次将退出的金额（见 decision-preview），与服务端计算不符则拒绝",
    )
    clause_number: ClauseNumber | None = None
    note: str = text(2000)


class PreviewQuery(Schema):
    decision: Literal["approve", "partial"]
    amount: int | None = Field(None, ge=1, le=MAX_AMOUNT, description="分；部分退款时必填（累计退款总额）")


class PreviewOut(Schema):
    """What a paying decision would do now: the amount that leaves, the case's total after it,
    where the money goes, and whether finance must approve it first."""

    confirmed_amount: int
    total: int
    destination: str
    finance_review: bool


class TransferIn(Schema):
    to: Literal["tech", "finance", "supervisor", "agent"]
    reason: str = text(500)


class FinanceIn(Schema):
    approve: StrictBool
    note: str = text(500)


class ChecklistQuery(Schema):
    order_no: str = Field(..., min_length=1, max_length=32, pattern=NO_NUL)
    reason: Reason
    demand: Demand = Demand.FULL_REFUND
    amount: int | None = Field(None, ge=1, le=MAX_AMOUNT, description="分；部分退款的金额")


class QueueQuery(Schema):
    stage: Stage | None = None


class SubmitForm(SubmitIn):
    # A form field is text and has no null: 0 stands for "not given" (a form has no `true` either).
    amount: int = Field(0, ge=0, le=MAX_AMOUNT, description="分；部分退款时必填，0 表示未填")
    items: str = text(400, description="与 files 一一对应的证据项代码，用英文逗号分隔")
