"""The WeChat official account (issue 15, item 7; SPEC §8, §12): WeChat posts signed XML to
/channels/wechat/; every message is kept once; a bound follower's words join their buyer's
conversation, where the bot and the agents answer them, and the answers go back to WeChat through
the customer-service interface (here the sandbox WeChat), retried until sent or refused for good."""

import hashlib
import re
import threading
import time
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client, override_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from freezegun import freeze_time

from kameng.accounts.models import Role
from kameng.ops.tick import tick
from kameng.support import services
from kameng.support import wechat_inbox as wechat
from kameng.support.models import (
    Channel,
    Message,
    WeChatBinding,
    WeChatInbound,
    WeChatOutbound,
)
from kameng.support.wechat import client as wechat_client
from tests import factories as f
from tests.support.test_conversations import a_case_in_review

# The task worker opens its own connection: on PostgreSQL it must see committed data.
pytestmark = pytest.mark.django_db(transaction=True)

TOKEN = "kameng-wechat-dev"  # the development token under KAMENG_SANDBOX (tests run as `make run`)
DOOR = "/channels/wechat/"
ids = iter(range(10**15, 10**16))


def signed(timestamp: int | None = None, nonce: str = "n0nce") -> str:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = hashlib.sha1("".join(sorted([TOKEN, ts, nonce])).encode()).hexdigest()
    return f"?signature={signature}&timestamp={ts}&nonce={nonce}"


def xml(
    content: str = "你好", *, openid: str = "o-follower-1", msg_type: str = "text", msg_id=None, event=""
):
    msg_id = next(ids) if msg_id is None else msg_id
    parts = [
        "<xml>",
        "<ToUserName><![CDATA[gh_kameng]]></ToUserName>",
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>",
        f"<CreateTime>{int(time.time())}</CreateTime>",
        f"<MsgType><![CDATA[{msg_type}]]></MsgType>",
    ]
    if msg_type == "text":
        parts.append(f"<Content><![CDATA[{content}]]></Content>")
    if msg_type in ("image", "voice"):
        parts.append("<MediaId><![CDATA[media-123]]></MediaId>")
    if event:
        parts.append(f"<Event><![CDATA[{event}]]></Event>")
    if msg_id != "":
        parts.append(f"<MsgId>{msg_id}</MsgId>")
    parts.append("</xml>")
    return "".join(parts).encode()


@pytest.fixture(autouse=True)
def sandbox():
    """A fresh sandbox WeChat and no cached access token for each test."""
    cache.delete(wechat_client.TOKEN_CACHE_KEY)
    wechat_client.sandbox().reset()
    yield wechat_client.sandbox()
    wechat_client.sandbox().reset()


@pytest.fixture
def settle(drain_tasks, django_capture_on_commit_callbacks):
    """Run what was handed over after commit (handling, sending) until nothing is left."""

    def run():
        for _ in range(6):
            with django_capture_on_commit_callbacks(execute=True) as callbacks:
                drain_tasks()
            if not callbacks and not DBTaskResult.objects.ready().exists():
                return

    return run


@pytest.fixture
def wx(client, settle, django_capture_on_commit_callbacks):
    """WeChat's servers: post a message to the door, then let the workers do their part."""

    def post(body: bytes, query: str | None = None, *, then_settle: bool = True):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                DOOR + (query if query is not None else signed()), body, content_type="text/xml"
            )
        if then_settle:
            settle()
        return response

    return post


def bound_buyer(client, wx, sandbox, openid="o-follower-1", **kwargs):
    buyer = kwargs.get("buyer") or f.buyer()
    client.force_login(buyer)
    page = client.post("/support/wechat/", {"action": "code"}).content.decode()
    code = re.search(r"<strong>(\d{6})</strong>", page).group(1)
    client.logout()
    assert wx(xml(f"绑定 {code}", openid=openid)).content == b"success"
    assert WeChatBinding.objects.get(openid=openid).buyer == buyer
    return buyer


def received(sandbox, openid="o-follower-1") -> list[str]:
    return [text for who, text in sandbox.delivered if who == openid]


# --- the door ------------------------------------------------------------------------------------------


def test_the_echo_check_answers_the_echostr_only_when_signed(client, caplog):
    response = client.get(DOOR + signed() + "&echostr=hello-wechat-123")
    assert response.status_code == 200
    assert response.content == b"hello-wechat-123"
    assert response["Content-Type"].startswith("text/plain")

    bad = client.get(DOOR + "?signature=" + "0" * 40 + "&timestamp=1&nonce=x&echostr=hello")
    assert bad.status_code == 403 and b"hello" not in bad.content
    assert client.get(DOOR).status_code == 403
    refused = [r.getMessage() for r in caplog.records if "signature" in r.getMessage()]
    assert len(refused) == 2 and not any(TOKEN in line for line in refused)


@override_settings(WECHAT_TOKEN="")
def test_with_no_token_configured_the_door_is_closed(client):
    assert client.get(DOOR + signed() + "&echostr=x").status_code == 503
    assert client.post(DOOR + signed(), xml(), content_type="text/xml").status_code == 503
    assert not WeChatInbound.objects.exists()


def test_a_wrong_signature_old_or_future_timestamp_is_refused_and_nothing_kept(client):
    now = int(time.time())
    assert (
        client.post(DOOR + "?signature=abc&timestamp=1&nonce=x", xml(), content_type="text/xml").status_code
        == 403
    )
    assert client.post(DOOR, xml(), content_type="text/xml").status_code == 403
    tampered = signed().replace("n0nce", "other")
    assert client.post(DOOR + tampered, xml(), content_type="text/xml").status_code == 403
    assert client.post(DOOR + signed(now - 301), xml(), content_type="text/xml").status_code == 403  # replay
    assert client.post(DOOR + signed(now + 301), xml(), content_type="text/xml").status_code == 403
    assert not WeChatInbound.objects.exists()

    assert client.post(DOOR + signed(now - 200), xml(), content_type="text/xml").content == b"success"
    assert WeChatInbound.objects.count() == 1


def test_malformed_huge_and_entity_bodies_are_refused_never_a_500(client):
    assert client.post(DOOR + signed(), b"<xml><FromUserName>", content_type="text/xml").status_code == 400
    assert client.post(DOOR + signed(), b"not xml at all", content_type="text/xml").status_code == 400
    no_sender = b"<xml><MsgType>text</MsgType><CreateTime>1</CreateTime></xml>"
    assert client.post(DOOR + signed(), no_sender, content_type="text/xml").status_code == 400
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
        b"<xml><FromUserName>o</FromUserName><MsgType>text</MsgType><CreateTime>1</CreateTime>"
        b"<Content>&b;</Content></xml>"
    )
    assert client.post(DOOR + signed(), laughs, content_type="text/xml").status_code == 400
    huge = xml("长" * 30_000)
    assert len(huge) > 64 * 1024
    assert client.post(DOOR + signed(), huge, content_type="text/xml").status_code == 413
    assert not WeChatInbound.objects.exists()


def test_script_and_html_in_a_message_are_kept_as_text_and_shown_escaped(client, wx, sandbox):
    buyer = bound_buyer(client, wx, sandbox)
    words = "<script>alert('x')</script><b>粗体</b>"

    wx(xml(words))

    inbound = WeChatInbound.objects.get(msg_type="text", content=words)
    message = Message.objects.get(conversation__buyer=buyer, author_kind="buyer")
    assert message.body == words and message.channel == Channel.WECHAT
    agent = f.staff(Role.AGENT)
    client.force_login(agent)
    page = client.get(f"/support/staff/c/{message.conversation_id}/").content.decode()
    assert "&lt;script&gt;alert(" in page and "<script>alert(" not in page
    assert "微信公众号" in page  # the channel on the message
    assert inbound.conversation_id == message.conversation_id


def test_images_and_voice_from_a_bound_follower_join_as_placeholders_with_the_media_kept(client, wx, sandbox):
    buyer = bound_buyer(client, wx, sandbox)

    wx(xml(msg_type="image"))
    wx(xml(msg_type="voice"))

    said = list(
        Message.objects.filter(conversation__buyer=buyer, author_kind="buyer").values_list("body", "channel")
    )
    assert said == [("[图片]", Channel.WECHAT), ("[语音]", Channel.WECHAT)]
    assert WeChatInbound.objects.filter(msg_type__in=["image", "voice"], media_id="media-123").count() == 2


def test_a_replayed_msgid_is_kept_once_and_events_dedupe_on_sender_and_time(client, wx, sandbox):
    buyer = bound_buyer(client, wx, sandbox)
    body = xml("我的订单怎么还没发货", msg_id=5550001)

    first, again = wx(body), wx(body)

    assert first.content == again.content == b"success"
    assert WeChatInbound.objects.filter(msg_id="5550001").count() == 1
    assert Message.objects.filter(conversation__buyer=buyer, author_kind="buyer").count() == 1
    event = xml(msg_type="event", event="subscribe", msg_id="", openid="o-new")
    wx(event), wx(event)
    assert WeChatInbound.objects.filter(openid="o-new").count() == 1


# --- followers: unbound, subscribing, binding ----------------------------------------------------------


def test_an_unbound_follower_is_kept_and_told_how_to_bind_once_in_a_while(wx, sandbox):
    wx(xml("在吗", openid="o-stranger"))
    wx(xml("有人吗", openid="o-stranger"))
    wx(xml(msg_type="image", openid="o-stranger"))

    kept = WeChatInbound.objects.filter(openid="o-stranger")
    assert kept.count() == 3 and kept.filter(msg_type="image", media_id="media-123").exists()
    told = received(sandbox, "o-stranger")
    assert len(told) == 1  # not once per message: WeChat limits replies
    assert "请在个人中心获取绑定码，回复“绑定 123456”" in told[0]
    assert not Message.objects.exists()


def test_subscribing_gets_a_welcome_and_how_to_bind(wx, sandbox):
    wx(xml(msg_type="event", event="subscribe", msg_id="", openid="o-new"))

    (welcome,) = received(sandbox, "o-new")
    assert "欢迎关注" in welcome and "绑定 123456" in welcome and "/support/wechat/" in welcome


def test_bind_from_the_page_then_where_is_my_refund_is_answered_in_wechat_from_the_case(client, wx, sandbox):
    buyer = f.buyer(balance=200_00)
    _order, case, shop = a_case_in_review(buyer)
    client.force_login(buyer)
    page = client.get("/support/wechat/").content.decode()
    assert "绑定微信公众号" in page and "获取绑定码" in page
    page = client.post("/support/wechat/", {"action": "code"}).content.decode()
    code = re.search(r"<strong>(\d{6})</strong>", page).group(1)
    assert f"绑定 {code}" in page and "10 分钟内有效" in page

    wx(xml(f"绑定 {code}"))
    wx(xml("我的退款到哪了"))

    assert WeChatBinding.objects.get(openid="o-follower-1").buyer == buyer
    asked = Message.objects.get(conversation__buyer=buyer, author_kind="buyer")
    assert asked.body == "我的退款到哪了" and asked.channel == Channel.WECHAT
    assert asked.conversation.order is None  # the buyer's general conversation
    bound, answer = received(sandbox)
    assert "绑定成功" in bound
    assert f"#{case.pk}" in answer and "等待卖家处理" in answer and shop.name in answer
    assert f"/refunds/{case.pk}/" in answer
    page = client.get(f"/support/c/{asked.conversation_id}/").content.decode()
    assert "我的退款到哪了" in page and "微信公众号" in page
    assert "已绑定" in client.get("/support/wechat/").content.decode()


def test_a_code_works_once_within_ten_minutes_and_five_wrong_codes_lock_the_follower(client, wx, sandbox):
    buyer = f.buyer()
    code = wechat.new_bind_code(buyer=buyer).code
    wrong = "000000" if code != "000000" else "111111"

    for _ in range(5):
        wx(xml(f"绑定 {wrong}", openid="o-guesser"))
    wx(xml(f"绑定 {code}", openid="o-guesser"))  # the sixth try within the hour: refused even if right

    assert not WeChatBinding.objects.exists()
    told = received(sandbox, "o-guesser")
    assert told[:5] == [told[0]] * 5 and "不正确或已过期" in told[0]
    assert "次数过多" in told[5]

    wx(xml(f"绑定 {code}", openid="o-owner"))
    assert WeChatBinding.objects.get(buyer=buyer).openid == "o-owner"
    wx(xml(f"绑定 {code}", openid="o-other"))  # used once already
    assert WeChatBinding.objects.get(buyer=buyer).openid == "o-owner"

    late = wechat.new_bind_code(buyer=f.buyer())
    with freeze_time(timezone.now() + timedelta(minutes=11)):
        wx(xml(f"绑定 {late.code}", openid="o-late"))
    assert not WeChatBinding.objects.filter(openid="o-late").exists()


def test_unbinding_from_the_page_stops_messages_joining_the_conversation(client, wx, sandbox):
    buyer = bound_buyer(client, wx, sandbox)
    client.force_login(buyer)

    response = client.post("/support/wechat/", {"action": "unbind"})

    assert response.status_code == 302
    assert not WeChatBinding.objects.exists()
    wx(xml("还在吗"))
    assert not Message.objects.filter(conversation__buyer=buyer).exists()
    assert "绑定 123456" in received(sandbox)[-1]


# --- replies out ---------------------------------------------------------------------------------------


def test_an_agent_reply_goes_out_by_wechat_but_an_internal_note_does_not(
    client, wx, sandbox, settle, django_capture_on_commit_callbacks
):
    buyer = bound_buyer(client, wx, sandbox)
    wx(xml("转人工"))
    conversation = services.conversation_for(buyer=buyer)
    agent = f.staff(Role.AGENT)
    client.force_login(agent)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/support/staff/c/{conversation.pk}/", {"body": "内部：先查支付记录", "internal": "1"})
        client.post(
            f"/support/staff/c/{conversation.pk}/", {"body": "您好，我来处理您的问题", "client_id": "r1"}
        )
    settle()

    told = received(sandbox)
    # The agent's 工号 leads the reply: the verified mark of this channel (issue 16, item 1).
    assert told[-1] == f"【卡盟官方客服 {agent.agent_no}】您好，我来处理您的问题"
    assert not any("内部" in t for t in told)
    assert WeChatOutbound.objects.filter(state="sent").count() == len(told)


def test_the_access_token_is_reused_and_refreshed_when_wechat_says_it_is_stale(client, wx, sandbox):
    buyer = bound_buyer(client, wx, sandbox)
    wx(xml("你好"))
    assert sandbox.tokens_issued == 1  # several texts, one token

    sandbox.revoke_tokens()  # 40001
    wx(xml("在吗"))
    sandbox.expire_tokens()  # 42001
    wx(xml("有人吗"))

    assert sandbox.tokens_issued == 3
    assert WeChatOutbound.objects.exclude(state="sent").count() == 0
    assert Message.objects.filter(conversation__buyer=buyer, author_kind="buyer").count() == 3

    with override_settings(WECHAT_SANDBOX_TOKEN_TTL=60):
        sandbox.reset()
        wx(xml("一"))
        with freeze_time(timezone.now() + timedelta(seconds=61)):
            wx(xml("二"))
        assert sandbox.tokens_issued == 2  # fetched again once it lived its 60 s
        assert len(received(sandbox)) == 2


def test_a_transient_failure_is_retried_by_the_tick_and_sent_once(client, wx, sandbox, settle):
    bound_buyer(client, wx, sandbox)
    sandbox.fail_next(45009, -1)

    wx(xml("你好"))
    reply = WeChatOutbound.objects.order_by("id").last()
    assert reply.state == "pending" and reply.attempts == 1 and reply.last_error.startswith("45009")
    assert tick()["wechat_outbound"] == 0  # not before its backoff

    for seconds in (31, 100, 200):
        with freeze_time(timezone.now() + timedelta(seconds=seconds)):
            tick()
            settle()

    reply.refresh_from_db()
    assert reply.state == "sent" and reply.attempts == 3
    assert received(sandbox).count(reply.text) == 1


def test_outside_the_48_hour_window_the_reply_fails_with_a_reason_the_agent_sees(
    client, wx, sandbox, settle, django_capture_on_commit_callbacks
):
    buyer = bound_buyer(client, wx, sandbox)
    wx(xml("转人工"))
    conversation = services.conversation_for(buyer=buyer)
    agent = f.staff(Role.AGENT)
    sandbox.fail_next(-1)
    with django_capture_on_commit_callbacks(execute=True):
        services.post_message(conversation_id=conversation.pk, author=agent, body="我们已为您核实")
    settle()
    reply = WeChatOutbound.objects.get(message__body="我们已为您核实")
    assert reply.state == "pending"

    with freeze_time(timezone.now() + timedelta(hours=49)):
        tick()
        settle()

    reply.refresh_from_db()
    assert reply.state == "failed" and "48 小时" in reply.last_error
    client.force_login(agent)
    staff_page = client.get(f"/support/staff/c/{conversation.pk}/").content.decode()
    assert "微信回复未送达" in staff_page and "48 小时" in staff_page
    client.force_login(buyer)
    assert "微信回复未送达" not in client.get(f"/support/c/{conversation.pk}/").content.decode()
    assert "我们已为您核实" not in received(sandbox)


# --- on PostgreSQL: WeChat sends the same message twice at once -------------------------------------


def test_the_same_msgid_posted_twice_at_once_is_kept_once(on_postgres):
    body = xml("同一条消息", msg_id=7770001, openid="o-race")
    barrier = threading.Barrier(8)
    answers = []

    def post():
        try:
            barrier.wait()
            answers.append(Client().post(DOOR + signed(), body, content_type="text/xml").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert answers == [200] * 8
    assert WeChatInbound.objects.filter(msg_id="7770001").count() == 1


@override_settings(SANDBOX=False, WECHAT_TOKEN="a-real-token", WECHAT_APPID="", WECHAT_APPSECRET="")
def test_with_no_wechat_interface_configured_a_reply_fails_and_says_so(
    client, settle, django_capture_on_commit_callbacks
):
    buyer = f.buyer()
    WeChatBinding.objects.create(openid="o-follower-1", buyer=buyer)
    ts, nonce = str(int(time.time())), "n"
    signature = hashlib.sha1("".join(sorted(["a-real-token", ts, nonce])).encode()).hexdigest()
    query = f"?signature={signature}&timestamp={ts}&nonce={nonce}"
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(DOOR + query, xml("你好"), content_type="text/xml").content == b"success"
    settle()

    reply = WeChatOutbound.objects.get()
    assert reply.state == "failed" and "KAMENG_WECHAT_APPID" in reply.last_error
    (note,) = Message.objects.filter(conversation__buyer=buyer, internal=True)
    assert "微信回复未送达" in note.text and "KAMENG_WECHAT_APPID" in note.text


def test_a_message_whose_task_was_lost_is_handled_by_the_tick_once(wx, sandbox, settle):
    wx(xml("在吗", openid="o-stranger"), then_settle=False)
    DBTaskResult.objects.all().delete()  # the queue lost it (a process died before the worker ran)
    inbound = WeChatInbound.objects.get()
    assert inbound.outcome == "pending"
    assert tick()["wechat_inbound"] == 0  # its own task may still be on its way

    with freeze_time(timezone.now() + timedelta(seconds=61)):
        assert tick()["wechat_inbound"] == 1
        assert tick()["wechat_inbound"] == 0  # handed over once
        settle()

    inbound.refresh_from_db()
    assert inbound.outcome == "hint" and len(received(sandbox, "o-stranger")) == 1


def test_the_sandbox_rate_limits_like_wechat_one_waits_the_other_fails_for_the_agent(
    client, wx, sandbox, settle
):
    buyer = bound_buyer(client, wx, sandbox)  # the binding confirmation is one reply
    sandbox.per_minute = 1  # 45009: too many calls this minute

    wx(xml("你好"))  # the bot's answer waits for the next minute
    answer = WeChatOutbound.objects.order_by("id").last()
    assert answer.state == "pending" and answer.last_error.startswith("45009")
    with freeze_time(timezone.now() + timedelta(seconds=61)):
        tick()
        settle()
    answer.refresh_from_db()
    assert answer.state == "sent"

    sandbox.per_minute, sandbox.replies_per_message = 600, 1  # 45047: the bot already answered "你好"
    conversation = services.conversation_for(buyer=buyer)
    services.post_message(conversation_id=conversation.pk, author=f.staff(Role.AGENT), body="还有一件事")
    settle()
    refused = WeChatOutbound.objects.get(message__body="还有一件事")
    assert refused.state == "failed" and "回复太多条" in refused.last_error
    assert "回复太多条" in Message.objects.filter(conversation=conversation, internal=True).last().text
