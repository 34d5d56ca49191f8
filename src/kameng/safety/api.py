"""The official-channel check over JSON (SPEC §12): `GET /api/verify?value=<text>`, no login."""

from ninja import Query, Router, Schema
from pydantic import Field

from kameng.apitypes import NO_NUL

from . import registry

router = Router(tags=["safety"])


class VerifyIn(Schema):
    value: str = Field(..., max_length=300, pattern=NO_NUL, description="号码、邮箱、网址、账号或工号")


class VerifyOut(Schema):
    value: str
    official: bool
    kind: str = Field(description="phone | email | domain | link | social | agent | unknown")
    name: str | None = Field(description="官方渠道的名称；不是官方时为 null")
    advice: str


@router.get("/verify", response={200: VerifyOut, 400: dict, 422: dict}, auth=None)
def verify(request, query: Query[VerifyIn]):
    """Is this number, address, link, account or 工号 the platform's own?"""
    return registry.verify(query.value).as_dict()
