"""Texts for followers: written as `WeChatOutbound` rows in the transaction that causes them, sent
after commit by a task, retried with backoff by the tick until WeChat takes them or refuses for good.
A refusal the agent must know about (the 48-hour window closed) becomes an internal note in the
conversation. This module does not import the support services: they call `relay` from inside."""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_noop
from django_tasks import task

from kameng.sentences import Sentence, say, stored

from ..models import AuthorKind, Channel, Conversation, Message, WeChatBinding, WeChatOutbound
from . import client as wechat

log = logging.getLogger(__name__)

# The tick leaves a freshly queued text to its own task for this long before handing it over again.
LEASE = timedelta(minutes=2)
RETRY_FIRST = timedelta(seconds=30)
RETRY_MAX = timedelta(hours=1)
MAX_ATTEMPTS = 8
TEXT_MAX = 2000  # WeChat takes about 2048 bytes of text per message; the rest is cut with a link
State = WeChatOutbound.State

REASONS = {
    wechat.OUT_OF_WINDOW: gettext_noop(
        "买家超过 48 小时没有在微信公众号发消息，微信不允许再主动回复；请在站内会话或电话联系买家。"
    ),
    wechat.TOO_MANY_REPLIES: gettext_noop("买家上次发消息后已回复太多条，微信暂不允许继续回复。"),
    40003: gettext_noop("微信粉丝不存在或已取消关注。"),
    43004: gettext_noop("买家已取消关注公众号。"),
    wechat.NOT_CONFIGURED: gettext_noop("没有配置微信公众号接口（KAMENG_WECHAT_APPID），回复没有发出。"),
}


def retry_delay(attempts: int) -> timedelta:
    return min(RETRY_FIRST * 2 ** max(attempts - 1, 0), RETRY_MAX)


def in_chinese(sentence: Sentence | str) -> str:
    """What a follower reads: the product speaks 简体中文 first, whoever's request queued it."""
    with translation.override("zh-hans"):
        return say(sentence) if isinstance(sentence, Sentence) else sentence


def queue_text(
    *, openid: str, text: str, conversation: Conversation | None = None, message: Message | None = None
) -> WeChatOutbound:
    """Write the text to send in the caller's transaction; its task is handed over after commit."""
    now = timezone.now()
    outbound = WeChatOutbound.objects.create(
        openid=openid,
        conversation=conversation,
        message=message,
        text=text[:TEXT_MAX],
        next_try_at=now + LEASE,
        created_at=now,
    )
    transaction.on_commit(lambda: deliver_task.enqueue(outbound.pk))
    return outbound


def relay(*, conversation: Conversation, messages: list[Message]) -> int:
    """Agents' public replies and the bot's answers in `conversation` go out by WeChat too, when its
    buyer is bound and their last message in it came by WeChat within 48 hours. Returns how many."""
    messages = [m for m in messages if not m.internal and m.author_kind != AuthorKind.BUYER]
    if not messages:
        return 0
    binding = WeChatBinding.objects.filter(buyer_id=conversation.buyer_id).first()
    if binding is None:
        return 0
    last = conversation.messages.filter(author_kind=AuthorKind.BUYER).order_by("-id").first()
    if last is None or last.channel != Channel.WECHAT or last.created_at < timezone.now() - wechat.WINDOW:
        return 0
    for message in messages:
        text = in_chinese(
            Sentence.from_json(message.said)
            if isinstance(message.said, dict)
            else message.text_for(conversation.buyer_id)  # someone else's secrets arrive masked
        )
        if message.link:
            text = f"{text}\n{settings.SITE_URL.rstrip('/')}{message.link}"
        if message.author_kind == AuthorKind.AGENT and message.author and message.author.agent_no:
            # The verified mark of this channel: who answers, by 工号, which anyone can check.
            text = (
                in_chinese(Sentence(gettext_noop("【卡盟官方客服 %(no)s】"), no=message.author.agent_no))
                + text
            )
        queue_text(openid=binding.openid, text=text, conversation=conversation, message=message)
    return len(messages)


@task()
def deliver_task(outbound_id: int) -> str:
    return deliver(outbound_id=outbound_id)


def deliver(*, outbound_id: int) -> str:
    """Send one queued text, under its row lock so two workers never send it twice at once. A
    transient failure waits for the tick with backoff; a refusal for good is noted for the agent."""
    with transaction.atomic():
        outbound = (
            WeChatOutbound.objects.select_for_update().filter(pk=outbound_id, state=State.PENDING).first()
        )
        if outbound is None:
            return "done"
        result = _send(outbound)
        now = timezone.now()
        outbound.attempts += 1
        if result.ok:
            outbound.state, outbound.sent_at, outbound.last_error = State.SENT, now, ""
        elif result.transient and outbound.attempts < MAX_ATTEMPTS:
            outbound.last_error = f"{result.errcode} {result.errmsg}"[:300]
            outbound.next_try_at = now + retry_delay(outbound.attempts)
        else:
            _fail(outbound, result)
        outbound.save()
        log.info("wechat outbound %s: %s (errcode %s)", outbound.pk, outbound.state, result.errcode)
        return outbound.state


def _send(outbound: WeChatOutbound) -> wechat.SendResult:
    client = wechat.get_client()
    if client is None:
        return wechat.SendResult(wechat.NOT_CONFIGURED, "not configured")
    try:
        return wechat.send_text(client, openid=outbound.openid, text=outbound.text)
    except wechat.WeChatUnavailable as e:
        return wechat.SendResult(wechat.NETWORK, f"no access token: {e.errcode}")


def _fail(outbound: WeChatOutbound, result: wechat.SendResult) -> None:
    reason = REASONS.get(result.errcode)
    if reason is None:
        reason = gettext_noop("微信多次发送失败（错误码 %(code)s）。")
    why = Sentence(reason, code=result.errcode) if "%(code)s" in reason else Sentence(reason)
    outbound.state = State.FAILED
    outbound.last_error = in_chinese(why)[:300]
    if outbound.conversation_id:
        Message.objects.create(
            conversation_id=outbound.conversation_id,
            channel=Channel.SYSTEM,
            author_kind=AuthorKind.SYSTEM,
            internal=True,
            said=stored(
                Sentence(
                    gettext_noop("微信回复未送达：%(why)s 原文：%(words)s"),
                    why=why,
                    words=outbound.text[:200],
                )
            ),
        )


def due(now=None) -> int:
    """The tick: texts whose retry time came (or whose task was lost) are handed over again, each by
    one tick only (the conditional update)."""
    now = now or timezone.now()
    handed = 0
    for pk, next_try_at in WeChatOutbound.objects.filter(
        state=State.PENDING, next_try_at__lte=now
    ).values_list("pk", "next_try_at")[:200]:
        if WeChatOutbound.objects.filter(pk=pk, state=State.PENDING, next_try_at=next_try_at).update(
            next_try_at=now + LEASE
        ):
            deliver_task.enqueue(pk)
            handed += 1
    return handed
