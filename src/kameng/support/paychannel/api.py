"""Payment-channel complaints over JSON, for agents and supervisors; mounted under /api/support."""

from datetime import datetime
from typing import Annotated, Literal

from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Query, Router, Schema, Status
from pydantic import Field

from kameng.apitypes import MAX_ID, paged, text

from ..api import ERRORS, answering_only, refused
from ..services import SupportError
from . import selectors as complaints
from .services import REPLY_MAX
from .services import reply as reply_to_channel

router = Router(tags=["support"])


# --- payment-channel complaints (WeChat Pay / Alipay), for agents and supervisors --------------------

ComplaintId = Annotated[int, Field(ge=1, le=MAX_ID)]


class ComplaintQuery(Schema):
    state: Literal["", "completed", "all"] = Field("", description="空：未完结（首次回复时限最近的在前）")


class ComplaintOut(Schema):
    id: int
    channel: str
    channel_label: str
    complaint_id: str
    order_no: str
    conversation_id: int
    case_id: int | None
    amount: int
    buyer_text: str
    state: str
    state_label: str
    first_reply_due: datetime
    first_reply_left: str
    replied_at: datetime | None
    resolve_due: datetime
    resolve_left: str
    completed_at: datetime | None

    @staticmethod
    def resolve_channel_label(c) -> str:
        return c.get_channel_display()

    @staticmethod
    def resolve_order_no(c) -> str:
        return c.order.no

    @staticmethod
    def resolve_state_label(c) -> str:
        return c.get_state_display()

    @staticmethod
    def resolve_first_reply_left(c) -> str:
        return complaints.rows([c], now=timezone.now())[0].first_reply_left

    @staticmethod
    def resolve_resolve_left(c) -> str:
        return complaints.rows([c], now=timezone.now())[0].resolve_left


class ComplaintReplyIn(Schema):
    text: str = text(REPLY_MAX, description="回复内容：发送到支付渠道（买家在渠道里看到），同时记入订单会话")


class ChannelCallOut(Schema):
    id: int
    action: str
    sent: bool
    attempts: int

    @staticmethod
    def resolve_sent(call) -> bool:
        return call.sent_at is not None


@router.get("/channel-complaints", response={200: list[ComplaintOut], **ERRORS})
@paged
def channel_complaints(request, filters: Query[ComplaintQuery]):
    """Complaints buyers made to the payment channel, with the time left to the channel's deadlines.
    Paged: `page` (from 1) and `page_size` (default 50, at most 100)."""
    answering_only(request)
    return complaints.complaints(state=filters.state)


@router.post("/channel-complaints/{complaint_id}/reply", response={201: ChannelCallOut, **ERRORS})
def reply_to_complaint(request, complaint_id: ComplaintId, payload: ComplaintReplyIn):
    """Reply to the channel about the complaint; sent after commit and retried until the channel takes it."""
    answering_only(request)
    get_object_or_404(complaints.complaints(state="all"), pk=complaint_id)
    try:
        call = reply_to_channel(complaint_id=complaint_id, agent=request.user, text=payload.text)
    except SupportError as e:
        refused(e)
    return Status(201, call)
