"""Notices over JSON (issue 15, item 9): the notice centre for scripts and apps. Every user reads
and marks only their own notices; someone else's notice id answers 404."""

from datetime import datetime
from typing import Annotated, Literal

from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from ninja.errors import HttpError
from pydantic import Field, StrictBool

from kameng.apitypes import MAX_ID, paged

from . import selectors, services
from .api import ErrorOut, ValidationErrorOut

router = Router(tags=["notices"])
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ValidationErrorOut}
NoticeId = Annotated[int, Field(ge=1, le=MAX_ID)]


class NoticeOut(Schema):
    id: int
    text: str
    link: str
    at: datetime
    read: bool

    # Read from a Notice: its sentence in the caller's language, when it was written, whether read.
    @staticmethod
    def resolve_text(n) -> str:
        return n.message

    @staticmethod
    def resolve_at(n) -> datetime:
        return n.created_at

    @staticmethod
    def resolve_read(n) -> bool:
        return n.read_at is not None


class UnreadOut(Schema):
    unread: int
    newest: list[NoticeOut]


class MarkedOut(Schema):
    marked: int


class NoticeFilter(Schema):
    unread: bool = Field(False, description="只列未读的（查询参数：true 或 false）")


class PreferencesIO(Schema):
    email_notices: StrictBool = Field(..., description="通过邮件接收通知")
    language: Literal["zh-hans", "en"] = Field(..., description="邮件语言")


@router.get("", response={200: list[NoticeOut], **ERRORS})
@paged
def notices(request, filters: Query[NoticeFilter]):
    """My notices, newest first (paged: `page`, `page_size`)."""
    qs = selectors.notices_of(request.user)
    if filters.unread:
        qs = qs.filter(read_at__isnull=True)
    return qs


@router.get("/unread", response={200: UnreadOut, **ERRORS})
def unread(request):
    """How many of my notices are unread, and the newest five of them."""
    newest = selectors.notices_of(request.user).filter(read_at__isnull=True)[:5]
    return {"unread": selectors.unread_count(request.user), "newest": list(newest)}


@router.post("/{notice_id}/read", response={200: NoticeOut, **ERRORS})
def read(request, notice_id: NoticeId):
    notice = services.mark_notice_read(user=request.user, notice_id=notice_id)
    if notice is None:
        raise Http404
    return notice


@router.post("/read-all", response={200: MarkedOut, **ERRORS})
def read_all(request):
    return {"marked": services.mark_all_notices_read(user=request.user)}


@router.get("/preferences", response={200: PreferencesIO, **ERRORS})
def preferences(request):
    return {
        "email_notices": selectors.wants_mail(request.user),
        "language": request.user.language or "zh-hans",
    }


@router.put("/preferences", response={200: PreferencesIO, **ERRORS})
def set_preferences(request, payload: PreferencesIO):
    if payload.email_notices and not request.user.email:
        raise HttpError(400, _("您的账号没有邮箱地址，无法通过邮件接收通知。"))
    user = services.set_notice_preferences(
        user=request.user, email_notices=payload.email_notices, language=payload.language
    )
    return {"email_notices": selectors.wants_mail(user), "language": user.language}
