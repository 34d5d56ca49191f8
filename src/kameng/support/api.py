"""Customer-service conversations over JSON (issue 15, item 10): a buyer opens the conversation about
an order (or their general one), reads it from the last message seen, writes (once per client id)
and asks for a person; agents read the queue, claim, answer, write internal notes and close.
Phone calls and commitments: agents list and log calls (a promise in one becomes a commitment),
list commitments (their own, or a conversation's) and mark them kept; a buyer books a call-back.

Thin: parse, authorize (someone else's conversation is a 404), call `services`."""

from datetime import datetime
from typing import Annotated, Literal

from django.db.models import Q
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from ninja.errors import HttpError
from pydantic import Field, model_validator

from kameng.apitypes import MAX_ID, NO_NUL, json_int, text
from kameng.orders.models import Order

from . import commitments, selectors, services, wait
from .commitments import PROMISE_MAX, SUMMARY_MAX
from .models import Call, Commitment
from .services import MESSAGE_MAX, SupportError

router = Router(tags=["support"])
ERRORS = {400: dict, 401: dict, 403: dict, 404: dict, 422: dict}
ConversationId = Annotated[int, Field(ge=1, le=MAX_ID)]
AfterId = Annotated[
    int, Field(ge=0, le=MAX_ID, description="只返回这条消息之后的（断线重连时带上最后看到的 id）")
]


class OpenIn(Schema):
    # Required (an empty string for a general conversation), so that a body of `null` is refused.
    order_no: str = Field(..., max_length=40, pattern=NO_NUL, description="订单号；空字符串为一般咨询")


class ConversationOut(Schema):
    id: int
    order_no: str | None
    state: str
    state_label: str
    agent_no: str | None
    urgent: bool
    last_message_at: datetime | None


class MessageOut(Schema):
    id: int
    author: str
    agent_no: str | None
    channel: str
    internal: bool
    text: str
    link: str
    at: datetime
    read: bool


class MessageIn(Schema):
    body: str = text(MESSAGE_MAX, description="消息内容（纯文本）")
    client_id: str = text(64, description="发送方为这条消息生成的 id：重试时带同一个 id，只保存一次")
    internal: bool = False


class WaitOut(Schema):
    position: int
    agents_online: int
    minutes: int | None
    peak: str | None
    quiet_hours: list[str]


def _conversation(c) -> dict:
    return {
        "id": c.pk,
        "order_no": c.order.no if c.order_id else None,
        "state": c.state,
        "state_label": c.get_state_display(),
        "agent_no": c.agent.agent_no if c.agent_id else None,
        "urgent": c.urgent,
        "last_message_at": c.last_message_at,
    }


def _messages(conversation, *, for_staff: bool, after: int) -> list[dict]:
    return [
        {
            "id": m.pk,
            "author": m.author_kind,
            "agent_no": m.author.agent_no if m.author_id and m.author_kind == "agent" else None,
            "channel": m.channel,
            "internal": m.internal,
            "text": m.text,
            "link": m.link,
            "at": m.created_at,
            "read": m.read_at is not None,
        }
        for m in selectors.messages_of(conversation, for_staff=for_staff, after=after)
    ]


def _visible(request, conversation_id: int):
    """The buyer's own conversation, or any for an agent; anyone else: 404."""
    if services.may_answer(request.user):
        return selectors.staff_conversation(conversation_id, request.user), True
    return selectors.buyer_conversation(conversation_id, request.user), False


def _refused(e: SupportError):
    raise HttpError(400, str(e)) from e


@router.get("/wait", response={200: WaitOut}, auth=None)
def wait_now(request):
    """Place in line and the expected wait if one asked for a person now (no login needed)."""
    w = wait.estimate()
    return {
        "position": w.position,
        "agents_online": w.agents_online,
        "minutes": w.minutes,
        "peak": str(w.peak) if w.peak else None,
        "quiet_hours": w.quiet_hours,
    }


@router.get("/conversations", response={200: list[ConversationOut], **ERRORS})
def my_conversations(request):
    return [_conversation(c) for c in selectors.of_buyer(request.user)[:100]]


@router.post("/conversations", response={200: ConversationOut, **ERRORS})
def open_conversation(request, payload: OpenIn):
    order = None
    if payload.order_no:
        order = get_object_or_404(Order, no=payload.order_no, buyer=request.user)
    return _conversation(services.conversation_for(buyer=request.user, order=order))


@router.get("/conversations/{conversation_id}/messages", response={200: list[MessageOut], **ERRORS})
def messages(request, conversation_id: ConversationId, after: AfterId = 0):
    conversation, for_staff = _visible(request, conversation_id)
    services.mark_read(conversation=conversation, reader=request.user)
    return _messages(conversation, for_staff=for_staff, after=max(after, 0))


@router.post("/conversations/{conversation_id}/messages", response={201: MessageOut, **ERRORS})
def post(request, conversation_id: ConversationId, payload: MessageIn):
    conversation, _for_staff = _visible(request, conversation_id)
    try:
        message = services.post_message(
            conversation_id=conversation.pk,
            author=request.user,
            body=payload.body,
            client_id=payload.client_id,
            internal=payload.internal,
        )
    except SupportError as e:
        _refused(e)
    return Status(201, _messages(conversation, for_staff=True, after=message.pk - 1)[0])


@router.post("/conversations/{conversation_id}/person", response={200: ConversationOut, **ERRORS})
def ask_for_person(request, conversation_id: ConversationId):
    conversation = selectors.buyer_conversation(conversation_id, request.user)
    services.ask_for_person(conversation_id=conversation.pk, buyer=request.user)
    return _conversation(selectors.buyer_conversation(conversation_id, request.user))


@router.get("/queue", response={200: list[ConversationOut], **ERRORS})
def queue(request):
    if not services.may_answer(request.user):
        raise HttpError(403, "forbidden")
    services.set_presence(agent=request.user)
    waiting, held = selectors.queue()
    return [_conversation(c) for c in list(waiting[:100]) + list(held[:100])]


@router.post("/conversations/{conversation_id}/claim", response={200: ConversationOut, **ERRORS})
def claim(request, conversation_id: ConversationId):
    if not services.may_answer(request.user):
        raise HttpError(403, "forbidden")
    selectors.staff_conversation(conversation_id, request.user)
    try:
        services.claim(conversation_id=conversation_id, agent=request.user)
    except SupportError as e:
        _refused(e)
    return _conversation(selectors.staff_conversation(conversation_id, request.user))


@router.post("/conversations/{conversation_id}/close", response={200: ConversationOut, **ERRORS})
def close(request, conversation_id: ConversationId):
    conversation, _for_staff = _visible(request, conversation_id)
    try:
        services.close(conversation_id=conversation.pk, user=request.user)
    except SupportError as e:
        _refused(e)
    return _conversation(selectors.conversations().get(pk=conversation.pk))


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
        _refused(e)
    return Status(
        201, {"call": _call(call), "commitment": _commitment(commitment) if commitment is not None else None}
    )


@router.get("/conversations/{conversation_id}/commitments", response={200: list[CommitmentOut], **ERRORS})
def conversation_commitments(request, conversation_id: ConversationId):
    """The conversation's commitments, soonest due first (its buyer or an agent)."""
    conversation, _for_staff = _visible(request, conversation_id)
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
        _refused(e)
    return Status(201, _commitment(commitment))


@router.get("/commitments", response={200: list[CommitmentOut], **ERRORS})
def my_commitments(request, filters: Query[CommitmentQuery]):
    """An agent's own commitments and the call-backs nobody holds yet, soonest due first."""
    _staff_only(request)
    qs = Commitment.objects.filter(Q(agent=request.user) | Q(agent__isnull=True)).select_related("agent")
    if filters.state:
        qs = qs.filter(state=filters.state)
    return [_commitment(c) for c in qs.order_by("due_at")[:200]]
