"""API authentication: the browser session (CSRF-checked) and personal tokens for scripts.

A token is `TimestampSigner` over "<user id>.<password fragment>". The fragment is an HMAC of the
stored password hash, so a password change (or an admin resetting it) revokes every token at once
without a token table; the timestamp bounds a token's life (`KAMENG_API_TOKEN_DAYS`, default 30).
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_logged_in
from django.core import signing
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.errors import HttpError
from ninja.security import HttpBearer
from ninja.security.session import SessionAuth
from pydantic import Field

from kameng.apitypes import NO_NUL

from .models import User

TOKEN_SALT = "kameng.api-token"


def token_max_age() -> int:
    return int(getattr(settings, "API_TOKEN_MAX_AGE", 30 * 24 * 3600))


def _password_fragment(user: User) -> str:
    return salted_hmac(TOKEN_SALT + ".password", user.password, algorithm="sha256").hexdigest()[:20]


def issue_token(user: User) -> str:
    return signing.TimestampSigner(salt=TOKEN_SALT).sign(f"{user.pk}.{_password_fragment(user)}")


def user_for_token(token: str) -> User | None:
    """The active user a token names, or None (bad signature, expired, password changed)."""
    try:
        value = signing.TimestampSigner(salt=TOKEN_SALT).unsign(token, max_age=token_max_age())
    except signing.BadSignature:  # SignatureExpired is a BadSignature
        return None
    user_id, _sep, fragment = value.partition(".")
    if not user_id.isdigit():
        return None
    user = User.objects.filter(pk=int(user_id), is_active=True).first()
    if user is None or not constant_time_compare(fragment, _password_fragment(user)):
        return None
    return user


class BearerToken(HttpBearer):
    """`Authorization: Bearer <token>`. A token that is present but wrong answers 401 at once,
    rather than falling through to the session check (which would answer a CSRF 403)."""

    def authenticate(self, request, token: str):
        user = user_for_token(token.strip())
        if user is None:
            raise HttpError(401, _("API 令牌无效或已过期，请重新获取。"))
        request.user = user  # the endpoints and services read request.user, as with a session
        return user


class BrowserSession(SessionAuth):
    """Django's session with its CSRF check. Without a logged-in session there is nothing a forged
    request could borrow, so an anonymous caller gets a plain 401 instead of a CSRF 403."""

    def __call__(self, request):
        if not request.user.is_authenticated:
            return None
        return super().__call__(request)


bearer = BearerToken()
session = BrowserSession()

router = Router(tags=["auth"])


class ErrorOut(Schema):
    detail: str


class ValidationErrorOut(Schema):
    detail: str
    errors: list[dict]


class CredentialsIn(Schema):
    username: str = Field(..., min_length=1, max_length=150, pattern=NO_NUL)
    password: str = Field(..., min_length=1, max_length=256, pattern=NO_NUL)


class TokenOut(Schema):
    token: str
    token_type: str = "Bearer"
    expires_at: datetime


class MeOut(Schema):
    id: int
    username: str
    display_name: str
    agent_no: str | None
    roles: list[str]


@router.post(
    "/token",
    auth=None,
    response={200: TokenOut, 400: ErrorOut, 401: ErrorOut, 422: ValidationErrorOut},
    summary="Issue a personal API token",
)
def token(request, payload: CredentialsIn):
    user = authenticate(request, username=payload.username, password=payload.password)
    if user is None or not user.is_active:
        raise HttpError(401, _("用户名或密码错误。"))
    # A token for a password is a login: its last-login time, and the failed-password count of
    # the login throttle starts again (django-axes listens to this signal).
    user_logged_in.send(sender=user.__class__, request=request, user=user)
    return {
        "token": issue_token(user),
        "expires_at": timezone.now() + timedelta(seconds=token_max_age()),
    }


@router.get("/me", response={200: MeOut, 401: ErrorOut})
def me(request):
    user = request.user
    return {
        "id": user.pk,
        "username": user.username,
        "display_name": user.display_name,
        "agent_no": user.agent_no,
        "roles": sorted(user.roles),
    }
