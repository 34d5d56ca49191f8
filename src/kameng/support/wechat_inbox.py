"""What happens to a message from the WeChat official account. The door only stores it (`receive`:
WeChat wants an answer within 5 seconds); `handle` runs after commit in a task: a bound follower's
words join their buyer's conversation (where the bot and the agents answer them), `绑定 123456` binds
a follower to the buyer who got that code, and anyone else is told how to bind. The protocol, the
client and the outbox are in `wechat/`, below the support services this module calls."""

import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django_tasks import task

from kameng.sentences import Sentence

from . import services as support
from .models import Channel, WeChatBindCode, WeChatBinding, WeChatInbound
from .wechat import outbox
from .wechat.protocol import Incoming

log = logging.getLogger(__name__)

RAW_MAX = 8000
CODE_TTL = timedelta(minutes=10)
BIND_TRIES = 5  # wrong codes per follower per hour
BIND_WINDOW = timedelta(hours=1)
HINT_EVERY = timedelta(minutes=10)  # an unbound follower is told how to bind at most this often
# Left unhandled this long, a message is handed to a task again by the tick (its task was lost).
HANDLE_AGAIN_AFTER = timedelta(minutes=1)
HANDLE_AGAIN_MAX = timedelta(hours=1)
# "绑定 123456", or "bind 123456" as the English replies spell it.
BIND = re.compile(r"^\s*(?:绑定|bind)\s*[:：]?\s*(\d{6})\s*$", re.IGNORECASE)
LOOKS_LIKE_BIND = re.compile(r"^\s*(?:绑定|bind\b)", re.IGNORECASE)
PLACEHOLDER = {"image": "[图片]", "voice": "[语音]"}
OUT = WeChatInbound.Outcome

HOW_TO_BIND = gettext_noop(
    "请在个人中心获取绑定码，回复“绑定 123456”（换成您的 6 位绑定码）。绑定页面：%(url)s"
)
WELCOME = gettext_noop("欢迎关注卡盟官方服务号！绑定卡盟账号后，可以直接在这里咨询订单和退款。")
WELCOME_BACK = gettext_noop("欢迎回来！您的卡盟账号已绑定，直接发送消息即可咨询订单和退款。")
BOUND = gettext_noop(
    "绑定成功：微信已绑定卡盟账号 %(name)s。现在可以直接发送消息咨询，例如“我的退款到哪了”。"
)
WRONG_CODE = gettext_noop("绑定码不正确或已过期（10 分钟内有效，只能用一次）。请在个人中心重新获取。")
LOCKED = gettext_noop("绑定码错误次数过多，请一小时后再试。")


# --- the door ---------------------------------------------------------------------------------------


def receive(*, incoming: Incoming, raw: bytes) -> tuple[WeChatInbound, bool]:
    """Keep what WeChat posted, once: a replayed MsgId (or an event with the same sender and time)
    returns the row already kept and `False`. The handling task is handed over after commit."""
    try:
        with transaction.atomic():
            inbound = WeChatInbound.objects.create(
                openid=incoming.openid,
                msg_id=incoming.msg_id,
                msg_type=incoming.msg_type,
                event=incoming.event,
                content=incoming.content,
                media_id=incoming.media_id,
                created_time=incoming.created_time,
                raw=raw.decode("utf-8", errors="replace")[:RAW_MAX],
                retry_at=timezone.now() + HANDLE_AGAIN_AFTER,
            )
            transaction.on_commit(lambda: handle_task.enqueue(inbound.pk))
    except IntegrityError:
        same = WeChatInbound.objects.filter(openid=incoming.openid)
        if incoming.msg_id:
            same = WeChatInbound.objects.filter(msg_id=incoming.msg_id)
        else:
            same = same.filter(created_time=incoming.created_time, msg_id="")
        return same.get(), False
    return inbound, True


# --- handling, after commit ---------------------------------------------------------------------------


@task()
def handle_task(inbound_id: int) -> str:
    return handle(inbound_id=inbound_id)


@transaction.atomic
def handle(*, inbound_id: int) -> str:
    """Handle one kept message once (the row lock and its outcome say whether it was done)."""
    inbound = WeChatInbound.objects.select_for_update().filter(pk=inbound_id, outcome=OUT.PENDING).first()
    if inbound is None:
        return "done"
    # One follower's messages are handled one at a time (the bind tries are counted per follower):
    # their first message's row is the follower's lock.
    WeChatInbound.objects.select_for_update().filter(openid=inbound.openid).order_by("id").values(
        "pk"
    ).first()
    binding = WeChatBinding.objects.select_related("buyer").filter(openid=inbound.openid).first()
    if inbound.msg_type == "event":
        inbound.outcome = _event(inbound, binding)
    elif inbound.msg_type == "text" and LOOKS_LIKE_BIND.match(inbound.content):
        inbound.outcome = _bind(inbound)
    elif binding is not None and binding.buyer.is_active:
        inbound.outcome = _to_conversation(inbound, binding)
    else:
        inbound.outcome = _hint(inbound)
    inbound.handled_at = timezone.now()
    inbound.save(update_fields=["outcome", "handled_at", "conversation"])
    return inbound.outcome


def _event(inbound: WeChatInbound, binding: WeChatBinding | None) -> str:
    if inbound.event != "subscribe":
        return OUT.IGNORED  # unsubscribe, menu clicks, location reports: kept, nothing to say
    if binding is not None:
        outbox.queue_text(openid=inbound.openid, text=outbox.in_chinese(Sentence(WELCOME_BACK)))
    else:
        welcome = outbox.in_chinese(Sentence(WELCOME))
        outbox.queue_text(openid=inbound.openid, text=f"{welcome}\n{_how_to_bind()}")
    return OUT.HINT


def _how_to_bind() -> str:
    return outbox.in_chinese(Sentence(HOW_TO_BIND, url=f"{settings.SITE_URL.rstrip('/')}/support/wechat/"))


def _hint(inbound: WeChatInbound) -> str:
    recently = inbound.received_at - HINT_EVERY
    if not WeChatInbound.objects.filter(
        openid=inbound.openid, outcome=OUT.HINT, received_at__gte=recently
    ).exists():
        outbox.queue_text(openid=inbound.openid, text=_how_to_bind())
        return OUT.HINT
    return OUT.IGNORED


def _to_conversation(inbound: WeChatInbound, binding: WeChatBinding) -> str:
    body = PLACEHOLDER.get(inbound.msg_type, "")
    if inbound.msg_type == "text":
        body = inbound.content[: support.MESSAGE_MAX]
    elif inbound.content:  # a voice message WeChat transcribed
        body = f"{body} {inbound.content}"[: support.MESSAGE_MAX]
    if not body.strip():
        return OUT.IGNORED  # a link, a location, a video: kept here, nothing to put in words
    conversation = support.conversation_for(buyer=binding.buyer)
    support.post_message(
        conversation_id=conversation.pk,
        author=binding.buyer,
        body=body,
        client_id=f"wx:{inbound.msg_id or inbound.pk}",
        channel=Channel.WECHAT,
    )
    inbound.conversation = conversation
    return OUT.MESSAGE


def _bind(inbound: WeChatInbound) -> str:
    now = timezone.now()
    failures = WeChatInbound.objects.filter(
        openid=inbound.openid, outcome=OUT.BIND_FAILED, received_at__gte=now - BIND_WINDOW
    ).count()
    if failures >= BIND_TRIES:
        outbox.queue_text(openid=inbound.openid, text=outbox.in_chinese(Sentence(LOCKED)))
        return OUT.BIND_LOCKED
    found = BIND.match(inbound.content)
    code = (
        WeChatBindCode.objects.select_for_update()
        .select_related("buyer")
        .filter(code_hash=code_hash(found.group(1)), used_at__isnull=True, expires_at__gt=now)
        .first()
        if found
        else None
    )
    if code is None or not code.buyer.is_active:
        outbox.queue_text(openid=inbound.openid, text=outbox.in_chinese(Sentence(WRONG_CODE)))
        log.info("wechat: wrong bind code from a follower (%d wrong this hour)", failures + 1)
        return OUT.BIND_FAILED
    code.used_at = now
    code.save(update_fields=["used_at"])
    # One WeChat per buyer and one buyer per WeChat: a new binding replaces the old ones of either.
    WeChatBinding.objects.filter(openid=inbound.openid).exclude(buyer=code.buyer).delete()
    WeChatBinding.objects.update_or_create(
        buyer=code.buyer, defaults={"openid": inbound.openid, "bound_at": now}
    )
    name = code.buyer.get_username()
    outbox.queue_text(openid=inbound.openid, text=outbox.in_chinese(Sentence(BOUND, name=name)))
    return OUT.BOUND


def handle_again(now=None) -> int:
    """The tick: messages still pending at their retry time (the task was lost when a process died,
    or it failed) are handed to a task again, each by one tick only, waiting twice as long each time."""
    now = now or timezone.now()
    handed = 0
    due = WeChatInbound.objects.filter(outcome=OUT.PENDING, retry_at__lte=now).values_list("pk", "tries")[
        :200
    ]
    for pk, tries in due:
        wait = min(HANDLE_AGAIN_AFTER * 2 ** min(tries + 1, 10), HANDLE_AGAIN_MAX)
        if WeChatInbound.objects.filter(pk=pk, outcome=OUT.PENDING, tries=tries).update(
            tries=F("tries") + 1, retry_at=now + wait
        ):
            handle_task.enqueue(pk)
            handed += 1
    return handed


def tick(now=None) -> dict:
    return {"wechat_inbound": handle_again(now), "wechat_outbound": outbox.due(now)}


# --- binding, from the buyer's side --------------------------------------------------------------------


def code_hash(code: str) -> str:
    """Keyed, so a copy of the table does not give the codes away (a million codes hash in a blink)."""
    return hmac.new(settings.SECRET_KEY.encode(), f"wechat-bind:{code}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class BindCode:
    code: str
    expires_at: object


@transaction.atomic
def new_bind_code(*, buyer) -> BindCode:
    """A fresh 6-digit code for `buyer`; their earlier unused codes stop working."""
    if not buyer.is_authenticated or not buyer.is_active:
        raise support.SupportError(_("请先登录。"))
    now = timezone.now()
    WeChatBindCode.objects.filter(buyer=buyer, used_at__isnull=True).update(used_at=now)
    while True:  # no two live codes alike, so a code names one buyer
        code = f"{secrets.randbelow(10**6):06d}"
        digest = code_hash(code)
        if not WeChatBindCode.objects.filter(
            code_hash=digest, used_at__isnull=True, expires_at__gt=now
        ).exists():
            break
    expires_at = now + CODE_TTL
    WeChatBindCode.objects.create(buyer=buyer, code_hash=digest, expires_at=expires_at, created_at=now)
    return BindCode(code=code, expires_at=expires_at)


@transaction.atomic
def unbind(*, buyer) -> bool:
    """The buyer's WeChat stops reaching their conversation (what it sent stays where it is)."""
    deleted, _rows = WeChatBinding.objects.filter(buyer=buyer).delete()
    return bool(deleted)
