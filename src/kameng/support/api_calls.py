"""Phone calls and commitments over JSON (issue 15, items 6 and 10): agents log calls and keep
promises, buyers book call-backs; mounted under /api/support next to `support.api`."""

from datetime import datetime
from typing import Annotated, Literal

from django.db.models import Q
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from ninja.errors import HttpError
from pydantic import Field, model_validator

from kameng.apitypes import MAX_ID, NO_NUL, json_int, text

from . import commitments, selectors, services
from .api import ERRORS, ConversationId, refused, visible
from .commitments import PROMISE_MAX, SUMMARY_MAX
from .models import Call, Commitment
from .services import SupportError

router = Router(tags=["support"])


# --- phone calls and commitments ------------------------------------------------------------------

CommitmentId = Annotated[int, Field(ge=1, le=MAX_ID)]


class CallOut(Schema):
    id: int
    agent_no: str | None
    direction: Literal["in", "out"]
    number: str
    summary: str
    at: datetime


class CommitmentOut(Schema):
    id: int
    conversation_id: int
    kind: Literal["promise", "callback"]
    kind_label: str
    state: Literal["open", "kept", "missed"]
    state_label: str
    text: str
    phone: str
    agent_no: str | None
    due_at: datetime
    done_at: datetime | None


class CallIn(Schema):
    direction: Literal["in", "out"] = Field(..., description="in 来电，out 去电")
    number: str = Field(..., min_length=1, max_length=30, pattern=NO_NUL, description="电话号码")
    summary: str = Field(..., min_length=1, max_length=SUMMARY_MAX, pattern=NO_NUL, description="通话摘要")
    promise: str = text(
        PROMISE_MAX, description="通话中作出的承诺（可空）；有承诺时须给出 due_at 或 working_days"
    )
    due_at: datetime | None = Field(None, description="承诺的最晚时间（带时区）")
    working_days: json_int(ge=1, le=30) | None = Field(None, description="或：几个工作日内")

    @model_validator(mode="after")
    def promise_has_deadline(self):
        if self.promise.strip() and self.due_at is None and self.working_days is None:
            raise ValueError("a promise needs due_at or working_days")
        return self


class CallLoggedOut(Schema):
    call: CallOut
    commitment: CommitmentOut | None


class CallbackIn(Schema):
    at: datetime = Field(..., description="希望在此之前回电（带时区）")
    phone: str = Field(..., min_length=1, max_length=30, pattern=NO_NUL, description="回电号码")


class CommitmentQuery(Schema):
    state: Literal["open", "kept", "missed"] | None = Field(None, description="只列这一状态的")


def _call(c: Call) -> dict:
    return {
        "id": c.pk,
        "agent_no": c.agent.agent_no if c.agent_id else None,
        "direction": c.direction,
        "number": c.number,
        "summary": c.summary,
        "at": c.at,
    }


def _commitment(c: Commitment) -> dict:
    return {
        "id": c.pk,
        "conversation_id": c.conversation_id,
        "kind": c.kind,
        "kind_label": c.get_kind_display(),
        "state": c.state,
        "state_label": c.get_state_display(),
        "text": c.text,
        "phone": c.phone,
        "agent_no": c.agent.agent_no if c.agent_id else None,
        "due_at": c.due_at,
        "done_at": c.done_at,
    }


def _staff_only(request) -> None:
    if not services.may_answer(request.user):
        raise HttpError(403, _("只有客服可以处理通话和承诺。"))


@router.get("/conversations/{conversation_id}/calls", response={200: list[CallOut], **ERRORS})
def calls(request, conversation_id: ConversationId):
    """The calls logged in a conversation, newest first (agents only: the buyer reads the summaries
    as messages)."""
    _staff_only(request)
    conversation = selectors.staff_conversation(conversation_id, request.user)
    return [_call(c) for c in conversation.calls.select_related("agent")[:200]]


@router.post("/conversations/{conversation_id}/calls", response={201: CallLoggedOut, **ERRORS})
def log_call(request, conversation_id: ConversationId, payload: CallIn):
    """Log a call; a promise made in it becomes a commitment (due at `due_at` or in `working_days`)."""
    _staff_only(request)
    conversation = selectors.staff_conversation(conversation_id, request.user)
    try:
        due = None
        if payload.promise.strip():
            due = commitments.due_from(at=payload.due_at, working_days=payload.working_days)
        call, commitment = commitments.log_call(
            conversation_id=conversation.pk,
            agent=request.user,
            direction=payload.direction,
            number=payload.number,
            summary=payload.summary,
            promise=payload.promise,
            due=due,
        )
    except SupportError as e:
        refused(e)
    return Status(
        201, {"call": _call(call), "commitment": _commitment(commitment) if commitment is not None else None}
    )


@router.get("/conversations/{conversation_id}/commitments", response={200: list[CommitmentOut], **ERRORS})
def conversation_commitments(request, conversation_id: ConversationId):
    """The conversation's commitments, soonest due first (its buyer or an agent)."""
    conversation, _for_staff = visible(request, conversation_id)
    return [_commitment(c) for c in conversation.commitments.select_related("agent").order_by("due_at")[:200]]


@router.post(
    "/conversations/{conversation_id}/commitments/{commitment_id}/keep",
    response={200: CommitmentOut, **ERRORS},
)
def keep_commitment(request, conversation_id: ConversationId, commitment_id: CommitmentId):
    _staff_only(request)
    selectors.staff_conversation(conversation_id, request.user)
    try:
        commitment = commitments.keep(
            conversation_id=conversation_id, commitment_id=commitment_id, agent=request.user
        )
    except SupportError as e:
        raise HttpError(404, str(e)) from e
    return _commitment(commitment)


@router.post("/conversations/{conversation_id}/callback", response={201: CommitmentOut, **ERRORS})
def book_callback(request, conversation_id: ConversationId, payload: CallbackIn):
    """The buyer books a call-back by `at` on `phone` (one open booking at a time)."""
    conversation = selectors.buyer_conversation(conversation_id, request.user)
    try:
        commitment = commitments.book_callback(
            buyer=request.user, conversation_id=conversation.pk, at=payload.at, phone=payload.phone
        )
    except SupportError as e:
        refused(e)
    return Status(201, _commitment(commitment))


@router.get("/commitments", response={200: list[CommitmentOut], **ERRORS})
def my_commitments(request, filters: Query[CommitmentQuery]):
    """An agent's own commitments and the call-backs nobody holds yet, soonest due first."""
    _staff_only(request)
    qs = Commitment.objects.filter(Q(agent=request.user) | Q(agent__isnull=True)).select_related("agent")
    if filters.state:
        qs = qs.filter(state=filters.state)
    return [_commitment(c) for c in qs.order_by("due_at")[:200]]
