"""WeChat's plain-mode server protocol: the signature on every request and the XML of a message.
https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Access_Overview.html"""

import hashlib
import hmac
import time
from dataclasses import dataclass
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

# WeChat's own servers answer in well under this; anything older (or this far ahead) is a replay.
MAX_SKEW = 300
MAX_BODY = 64 * 1024
OPENID_MAX = 64
MSG_ID_MAX = 32


class Malformed(ValueError):
    """The body is not a WeChat message; the text says why (for the log, never for the sender)."""


@dataclass(frozen=True)
class Incoming:
    openid: str
    account: str
    msg_type: str
    created_time: int
    msg_id: str = ""
    content: str = ""
    media_id: str = ""
    event: str = ""


def signature(token: str, timestamp: str, nonce: str) -> str:
    """SHA-1 hex of the token, timestamp and nonce sorted and joined, as WeChat signs."""
    # SHA-1 is what WeChat chose for this signature; we cannot pick another.
    return hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()  # noqa: S324


def signed(token: str, given: str, timestamp: str, nonce: str) -> bool:
    if not (token and given and timestamp and nonce):
        return False
    return hmac.compare_digest(signature(token, timestamp, nonce), given.strip().lower())


def fresh(timestamp: str, now: float | None = None) -> bool:
    """Whether WeChat's `timestamp` is within five minutes of now (either way)."""
    try:
        sent = int(timestamp)
    except ValueError:
        return False
    return abs((now if now is not None else time.time()) - sent) <= MAX_SKEW


def parse(body: bytes) -> Incoming:
    """A message from the XML WeChat posts; entity tricks (billion laughs, external entities) are
    refused by defusedxml, like any other malformed body."""
    try:
        root = fromstring(body)
    except (ParseError, DefusedXmlException, ValueError) as e:
        raise Malformed(f"not XML: {type(e).__name__}") from None
    if root.tag != "xml":
        raise Malformed("root is not <xml>")

    def field(name: str) -> str:
        node = root.find(name)
        return (node.text or "").strip() if node is not None else ""

    openid, msg_type = field("FromUserName"), field("MsgType").lower()
    if not openid or len(openid) > OPENID_MAX:
        raise Malformed("FromUserName missing or too long")
    if not msg_type or len(msg_type) > 20:
        raise Malformed("MsgType missing")
    try:
        created_time = int(field("CreateTime"))
    except ValueError:
        raise Malformed("CreateTime is not a number") from None
    msg_id = field("MsgId")
    if msg_id and (len(msg_id) > MSG_ID_MAX or not msg_id.isdigit()):
        raise Malformed("MsgId is not a number")
    # A voice message carries WeChat's transcription when the account turned recognition on.
    content = field("Content") if msg_type == "text" else field("Recognition")
    return Incoming(
        openid=openid,
        account=field("ToUserName")[:64],
        msg_type=msg_type,
        created_time=created_time,
        msg_id=msg_id,
        content=content,
        media_id=field("MediaId")[:128],
        event=field("Event").lower()[:40],
    )
