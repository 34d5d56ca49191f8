"""Replies to followers go through WeChat's customer-service message interface
(`POST /cgi-bin/message/custom/send?access_token=…`), behind an adapter like the payment gateway:
`HttpWeChat` talks to api.weixin.qq.com with the account's AppID/AppSecret; `SandboxWeChat` behaves
like WeChat for `make run` and tests (tokens that expire, rate limits, the 48-hour window, failures).

`send_text` keeps the access token (WeChat allows a couple of thousand fetches a day, so it is cached,
not fetched per message) and, when WeChat says the token is stale (40001, 42001), fetches a new one and
tries once more."""

import functools
import json
import logging
import random
import secrets
import threading
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from kameng.support.models import WeChatInbound

log = logging.getLogger(__name__)

TOKEN_CACHE_KEY = "wechat:access_token"
STALE_TOKEN = {40001, 40014, 42001}
# Worth another try later: WeChat busy, the rate limit, a stale token twice, the network.
TRANSIENT = {-1, 45009, 40001, 40014, 42001, -2}
OUT_OF_WINDOW = 45015
TOO_MANY_REPLIES = 45047
NETWORK = -2  # ours: WeChat could not be reached
NOT_CONFIGURED = -3  # ours: no AppID and no sandbox
WINDOW = timedelta(hours=48)


@dataclass(frozen=True)
class SendResult:
    errcode: int
    errmsg: str = ""

    @property
    def ok(self) -> bool:
        return self.errcode == 0

    @property
    def transient(self) -> bool:
        return self.errcode in TRANSIENT


class WeChatClient(Protocol):
    def fetch_token(self) -> tuple[str, int]:
        """A new access token and how many seconds it lives."""

    def send_text(self, *, access_token: str, openid: str, text: str) -> SendResult: ...


def send_text(client: WeChatClient, *, openid: str, text: str) -> SendResult:
    """Send through `client` with the cached token; a stale token is refreshed and tried once more."""
    result = client.send_text(access_token=_token(client), openid=openid, text=text)
    if result.errcode in STALE_TOKEN:
        result = client.send_text(access_token=_token(client, refresh=True), openid=openid, text=text)
    return result


def _token(client: WeChatClient, *, refresh: bool = False) -> str:
    token = None if refresh else cache.get(TOKEN_CACHE_KEY)
    if token is None:
        token, expires_in = client.fetch_token()
        cache.set(TOKEN_CACHE_KEY, token, timeout=max(int(expires_in), 1))
    return token


def get_client() -> WeChatClient | None:
    """The configured WeChat: the real one with an AppID, the sandbox under KAMENG_SANDBOX, else none."""
    if settings.WECHAT_APPID and settings.WECHAT_APPSECRET:
        return HttpWeChat(settings.WECHAT_APPID, settings.WECHAT_APPSECRET)
    if settings.SANDBOX:
        return sandbox()
    return None


class HttpWeChat:
    """api.weixin.qq.com. A network failure is reported as errcode -2 (ours), which is retried."""

    base = "https://api.weixin.qq.com/cgi-bin"
    timeout = 5

    def __init__(self, appid: str, secret: str) -> None:
        self.appid, self.secret = appid, secret

    def _call(self, url: str, payload: dict | None = None) -> dict:
        data = json.dumps(payload, ensure_ascii=False).encode() if payload is not None else None
        request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 (self.base is https)
                return json.loads(response.read().decode())
        except (urllib.error.URLError, TimeoutError, ValueError) as e:
            return {"errcode": NETWORK, "errmsg": f"network: {type(e).__name__}"}

    def fetch_token(self) -> tuple[str, int]:
        query = urllib.parse.urlencode(
            {"grant_type": "client_credential", "appid": self.appid, "secret": self.secret}
        )
        answer = self._call(f"{self.base}/token?{query}")
        if "access_token" not in answer:
            raise WeChatUnavailable(int(answer.get("errcode", NETWORK)), str(answer.get("errmsg", "")))
        return answer["access_token"], int(answer.get("expires_in", 7200))

    def send_text(self, *, access_token: str, openid: str, text: str) -> SendResult:
        query = urllib.parse.urlencode({"access_token": access_token})
        answer = self._call(
            f"{self.base}/message/custom/send?{query}",
            {"touser": openid, "msgtype": "text", "text": {"content": text}},
        )
        return SendResult(int(answer.get("errcode", 0)), str(answer.get("errmsg", "")))


class WeChatUnavailable(Exception):
    """No access token could be had (wrong AppSecret, WeChat down)."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"{errcode} {errmsg}")
        self.errcode, self.errmsg = errcode, errmsg


class SandboxWeChat:
    """WeChat as it behaves for the customer-service interface, in memory: tokens expire after
    `token_ttl` seconds (42001) or when revoked (40001), at most `per_minute` sends a minute (45009),
    no reply to a follower whose last message is older than 48 hours (45015) nor more than
    `replies_per_message` replies after it (45047), and a `failure_rate` of "system busy" (-1).
    What followers received is in `delivered`. The follower's last message time is what WeChat itself
    knows: the sandbox reads it from the messages WeChat posted to us."""

    replies_per_message = 20
    per_minute = 600

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.token_ttl = settings.WECHAT_SANDBOX_TOKEN_TTL
        self.failure_rate = settings.WECHAT_SANDBOX_FAILURE_RATE
        self.tokens: dict[str, object] = {}
        self.tokens_issued = 0
        self.delivered: list[tuple[str, str]] = []
        self.replied_at: list[tuple[str, object]] = []
        self.sent_at: list[object] = []
        self.failures: list[int] = []

    def fail_next(self, *errcodes: int) -> None:
        """The next sends fail with these codes, in order (tests and demos)."""
        with self.lock:
            self.failures.extend(errcodes)

    def revoke_tokens(self) -> None:
        """As when another server fetched a new token: the old ones answer 40001."""
        with self.lock:
            self.tokens = {t: None for t in self.tokens}

    def expire_tokens(self) -> None:
        """WeChat's clock passed the tokens' expiry before ours did: they answer 42001."""
        with self.lock:
            self.tokens = {t: timezone.now() - timedelta(seconds=1) for t in self.tokens}

    def fetch_token(self) -> tuple[str, int]:
        with self.lock:
            token = "sandbox-" + secrets.token_hex(16)
            self.tokens[token] = timezone.now() + timedelta(seconds=self.token_ttl)
            self.tokens_issued += 1
            return token, self.token_ttl

    def send_text(self, *, access_token: str, openid: str, text: str) -> SendResult:
        now = timezone.now()
        last = (
            WeChatInbound.objects.filter(openid=openid)
            .order_by("-received_at")
            .values_list("received_at", flat=True)
        ).first()
        with self.lock:
            if access_token not in self.tokens or self.tokens[access_token] is None:
                return SendResult(40001, "invalid credential, access_token is invalid or not latest")
            if self.tokens[access_token] <= now:
                return SendResult(42001, "access_token expired")
            if self.failures:
                return SendResult(self.failures.pop(0), "sandbox: failure asked for")
            if self.failure_rate and random.random() < self.failure_rate:
                return SendResult(-1, "system error")
            self.sent_at = [t for t in self.sent_at if t > now - timedelta(minutes=1)]
            if len(self.sent_at) >= self.per_minute:
                return SendResult(45009, "reach max api daily quota limit")
            if last is None or last < now - WINDOW:
                return SendResult(OUT_OF_WINDOW, "response out of time limit or subscription is canceled")
            replies = sum(1 for who, at in self.replied_at if who == openid and at >= last)
            if replies >= self.replies_per_message:
                return SendResult(TOO_MANY_REPLIES, "response count limit")
            self.sent_at.append(now)
            self.delivered.append((openid, text))
            self.replied_at.append((openid, now))
        log.info("sandbox wechat: sent %d characters to %s", len(text), openid)
        return SendResult(0, "ok")


@functools.cache
def sandbox() -> SandboxWeChat:
    """The one sandbox WeChat of this process."""
    return SandboxWeChat()
