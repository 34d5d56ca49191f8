"""Customer-service conversations over JSON (issue 15, item 10): a buyer opens the conversation about
an order (or their general one), reads it from the last message seen, writes (once per client id)
and asks for a person; agents read the queue, claim, answer, write internal notes and close.
Phone calls and commitments: agents list and log calls (a promise in one becomes a commitment),
list commitments (their own, or a conversation's) and mark them kept; a buyer books a call-back.

Thin: parse, authorize (someone else's conversation is a 404), call `services`."""

import dataclasses
from datetime import datetime
from typing import Annotated, Literal

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import File, Form, Router, Schema, Status
from ninja.errors import HttpError
from ninja.files import UploadedFile
from pydantic import Field

from kameng.apitypes import MAX_ID, NO_NUL, text
from kameng.orders.models import Order

from . import attachments, canned, desk, selectors, services, wait
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


class AttachmentOut(Schema):
    id: int
    kind: str
    name: str
    size: int
    url: str = Field(description="下载地址（需登录；空表示文件未保存）")
    refused: str = Field(description="未保存的原因；空表示已保存")


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
    attachments: list[AttachmentOut]


class MessageIn(Schema):
    body: str = text(MESSAGE_MAX, description="消息内容（纯文本）")
    client_id: str = text(64, description="发送方为这条消息生成的 id：重试时带同一个 id，只保存一次")
    internal: bool = False
    confirm: bool = Field(
        False, description="买家已看过防骗提醒，仍要发送（内容像验证码、密码或银行卡号时需要）"
    )


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


def _messages(conversation, *, for_staff: bool, after: int, viewer) -> list[dict]:
    return [
        {
            "id": m.pk,
            "author": m.author_kind,
            "agent_no": m.author.agent_no if m.author_id and m.author_kind == "agent" else None,
            "channel": m.channel,
            "internal": m.internal,
            "text": m.text_for(viewer.pk),
            "link": m.link,
            "at": m.created_at,
            "read": m.read_at is not None,
            "attachments": [attachments.as_item(a) for a in m.attachments.all()],
        }
        for m in selectors.messages_of(conversation, for_staff=for_staff, after=after)
    ]


def visible(request, conversation_id: int):
    """The buyer's own conversation, or any for an agent; anyone else: 404."""
    if services.may_answer(request.user):
        return selectors.staff_conversation(conversation_id, request.user), True
    return selectors.buyer_conversation(conversation_id, request.user), False


def refused(e: SupportError):
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
    conversation, for_staff = visible(request, conversation_id)
    services.mark_read(conversation=conversation, reader=request.user)
    return _messages(conversation, for_staff=for_staff, after=max(after, 0), viewer=request.user)


@router.post("/conversations/{conversation_id}/messages", response={201: MessageOut, **ERRORS})
def post(request, conversation_id: ConversationId, payload: MessageIn):
    conversation, _for_staff = visible(request, conversation_id)
    try:
        message = services.post_message(
            conversation_id=conversation.pk,
            author=request.user,
            body=payload.body,
            client_id=payload.client_id,
            internal=payload.internal,
            confirmed=payload.confirm,
        )
    except SupportError as e:
        refused(e)
    return Status(201, _messages(conversation, for_staff=True, after=message.pk - 1, viewer=request.user)[0])


class FilesForm(Schema):
    body: str = text(MESSAGE_MAX, description="随文件发送的文字（可空）")
    client_id: str = text(64, description="发送方为这条消息生成的 id：重试时带同一个 id，只保存一次")
    internal: bool = False


@router.post(
    "/conversations/{conversation_id}/files",
    response={201: MessageOut, **ERRORS},
    summary="发送图片、语音、视频或文件（multipart，字段 files，最多 5 个，每个 ≤ 20MB）",
)
def post_files(
    request,
    conversation_id: ConversationId,
    payload: Form[FilesForm],
    files: File[list[UploadedFile]] = None,
):
    conversation, _for_staff = visible(request, conversation_id)
    uploads = files or []
    if not uploads:
        raise HttpError(400, str(SupportError(_("请选择要发送的文件。"))))
    try:
        checked = attachments.check_uploads(uploads)
        message = services.post_message(
            conversation_id=conversation.pk,
            author=request.user,
            body=payload.body,
            client_id=payload.client_id,
            internal=payload.internal,
            attachments=checked,
        )
    except (SupportError, attachments.AttachmentError) as e:
        raise HttpError(400, str(e)) from e
    return Status(201, _messages(conversation, for_staff=True, after=message.pk - 1, viewer=request.user)[0])


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
        refused(e)
    return _conversation(selectors.staff_conversation(conversation_id, request.user))


@router.post("/conversations/{conversation_id}/close", response={200: ConversationOut, **ERRORS})
def close(request, conversation_id: ConversationId):
    conversation, _for_staff = visible(request, conversation_id)
    try:
        services.close(conversation_id=conversation.pk, user=request.user)
    except SupportError as e:
        refused(e)
    return _conversation(selectors.conversations().get(pk=conversation.pk))


# --- the desk (issue 15, item 8) --------------------------------------------------------------------

DeskKind = Literal["waiting", "held", "commitment", "case"]
ChannelCode = Literal["web", "email", "phone", "wechat", "system"]
GoodsKindCode = Literal["card_key", "direct_topup", "activation", "custom_service"]
DepartmentCode = Literal["tech", "seller", "finance", "supervisor"]


class DeskItemOut(Schema):
    kind: DeskKind
    id: int
    conversation_id: int | None
    case_id: int | None
    title: str
    buyer: str
    order_no: str
    goods_kind: str
    amount: int = Field(description="金额（分）")
    deadline: datetime | None
    time_left: str
    urgent: bool
    channel: str
    department: str
    holder: str
    score: float = Field(description="剩余宽裕分钟数（越小越紧急），见 support.desk.urgency")
    url: str


class NextOut(Schema):
    conversation: ConversationOut | None


class ConversationTransferIn(Schema):
    department: DepartmentCode
    reason: str = text(desk.REASON_MAX, description="转交原因（买家会看到）")


class CannedOut(Schema):
    id: int
    title: str
    text: str


class CannedFilledOut(CannedOut):
    unfilled: list[str] = Field(description="这段文字里仍未填写的变量；含有变量的回复不能发送")


def answering_only(request) -> None:
    if not services.may_answer(request.user):
        raise HttpError(403, "forbidden")


@router.get("/desk", response={200: list[DeskItemOut], **ERRORS})
def desk_queue(
    request,
    channel: ChannelCode | None = None,
    goods_kind: GoodsKindCode | None = None,
    seller: Annotated[int, Field(ge=1, le=MAX_ID)] | None = None,
    state: DeskKind | None = None,
    department: DepartmentCode | None = None,
    mine: bool = False,
):
    """The desk: conversations waiting or held, open commitments and refund cases staff hold, the
    most urgent first (the same order and filters as the 客服工作台 page; at most 200 items)."""
    answering_only(request)
    services.set_presence(agent=request.user)
    filters = desk.Filters(
        channel=channel or "",
        goods_kind=goods_kind or "",
        seller=seller,
        state=state or "",
        department=department or "",
        mine=mine,
    )
    return [
        {**dataclasses.asdict(i), "id": i.pk, "time_left": i.time_left, "url": i.url}
        for i in desk.queue(user=request.user, filters=filters)[:200]
    ]


@router.post("/desk/next", response={200: NextOut, **ERRORS})
def desk_next(request):
    """Take the most urgent waiting conversation you have a skill for (none waiting: null)."""
    answering_only(request)
    try:
        conversation = desk.assign_next(agent=request.user)
    except SupportError as e:
        refused(e)
    if conversation is None:
        return {"conversation": None}
    return {"conversation": _conversation(selectors.conversations().get(pk=conversation.pk))}


@router.post("/conversations/{conversation_id}/transfer", response={200: ConversationOut, **ERRORS})
def transfer(request, conversation_id: ConversationId, payload: ConversationTransferIn):
    """Hand the conversation to a department with a reason the buyer reads (an open refund case in
    review goes with it to tech, finance or a supervisor)."""
    answering_only(request)
    selectors.staff_conversation(conversation_id, request.user)
    try:
        desk.transfer(
            conversation_id=conversation_id,
            agent=request.user,
            department=payload.department,
            reason=payload.reason,
        )
    except SupportError as e:
        refused(e)
    return _conversation(selectors.staff_conversation(conversation_id, request.user))


@router.get("/canned", response={200: list[CannedOut], **ERRORS})
def canned_list(request):
    """The canned replies as written, variables included."""
    answering_only(request)
    return [{"id": r.pk, "title": r.title, "text": r.text} for r in canned.replies()]


@router.get("/conversations/{conversation_id}/canned", response={200: list[CannedFilledOut], **ERRORS})
def canned_for(request, conversation_id: ConversationId):
    """The canned replies filled in for this conversation (order number, amount, deadline, your 工号,
    the buyer); a variable without a value here stays as written and is listed in `unfilled`."""
    answering_only(request)
    conversation = selectors.staff_conversation(conversation_id, request.user)
    return canned.rendered(conversation, request.user)
