"""The chat in real time (issue 15, item 2): a page's WebSocket against the real ASGI application, the
real database and the channel layer: what the buyer and the agents see live, who is refused, what a
reconnecting page gets back, and what a flood costs (nothing already stored)."""

import json

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from kameng.accounts.models import Role
from kameng.asgi import application
from kameng.support import consumers, services
from kameng.support.models import Message
from tests import factories as f

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]
ORIGIN = (b"origin", b"http://127.0.0.1:8000")


@pytest.fixture(autouse=True)
def _fresh_layer(settings):
    # A new in-memory layer per test: its queues belong to the test's own event loop.
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


def session_cookie(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def socket(user, conversation_id: int, *, hello: int | None = 0):
    headers = [ORIGIN]
    if user is not None:
        headers.append((b"cookie", await sync_to_async(session_cookie)(user)))
    communicator = WebsocketCommunicator(application, f"/ws/support/c/{conversation_id}/", headers=headers)
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    if hello is not None:
        await communicator.send_json_to({"type": "hello", "after": hello})
        await frame(communicator, "state")
    return communicator


async def frame(communicator, kind: str, timeout: float = 5) -> dict:
    """The next frame of `kind`, skipping the others."""
    while True:
        got = await communicator.receive_json_from(timeout=timeout)
        if got["type"] == kind:
            return got


async def viewers(communicator, expected: list[str]) -> dict:
    """The first `viewers` frame that lists `expected` (earlier ones may still list the past)."""
    while (got := await frame(communicator, "viewers"))["open"] != expected:
        pass
    return got


async def frames_until_quiet(communicator) -> list[dict]:
    got = []
    while not await communicator.receive_nothing(timeout=0.3):
        output = await communicator.receive_output()
        if output["type"] == "websocket.send":
            got.append(json.loads(output["text"]))
        else:
            got.append(output)
    return got


@sync_to_async
def given_a_conversation_with_an_agent():
    buyer = f.buyer()
    agent = f.staff(Role.AGENT, agent_no="2001")
    conversation = services.conversation_for(buyer=buyer)
    services.post_message(conversation_id=conversation.pk, author=buyer, body="转人工", client_id="b0")
    services.claim(conversation_id=conversation.pk, agent=agent)
    return buyer, agent, conversation


post = sync_to_async(services.post_message)


async def test_the_buyer_sees_the_agents_reply_and_its_state_live():
    buyer, agent, conversation = await given_a_conversation_with_an_agent()
    page = await socket(buyer, conversation.pk)

    await post(conversation_id=conversation.pk, author=agent, body="您好，我来处理 <b>x</b>", client_id="a1")

    shown = await frame(page, "message")
    assert shown["text"] == "您好，我来处理 <b>x</b>"  # the page inserts it as text
    assert (shown["author"], shown["agent_no"], shown["author_label"]) == ("agent", "2001", "客服")
    await sync_to_async(services.close)(conversation_id=conversation.pk, user=agent)
    assert (await frame(page, "state"))["label"] == "已结束"
    await page.disconnect()


async def test_strangers_and_anonymous_sockets_are_closed_and_hear_nothing():
    _buyer, _agent, conversation = await given_a_conversation_with_an_agent()
    stranger = await sync_to_async(f.buyer)()
    finance = await sync_to_async(f.staff)(Role.FINANCE)
    for user, code in ((stranger, 4403), (finance, 4403), (None, 4401)):
        page = await socket(user, conversation.pk, hello=None)
        assert await page.receive_output(timeout=5) == {"type": "websocket.close", "code": code}
        await page.disconnect()
    missing = await socket(stranger, 999_999, hello=None)
    assert (await missing.receive_output(timeout=5))["code"] == 4403


async def test_an_internal_note_reaches_agents_never_the_buyer():
    buyer, agent, conversation = await given_a_conversation_with_an_agent()
    other_agent = await sync_to_async(f.staff)(Role.SUPERVISOR, agent_no="2002")
    buyer_page = await socket(buyer, conversation.pk)
    agent_page = await socket(agent, conversation.pk)
    supervisor_page = await socket(other_agent, conversation.pk)

    await agent_page.send_json_to(
        {"type": "message", "client_id": "n1", "body": "买家语气着急", "internal": True}
    )
    await buyer_page.send_json_to({"type": "message", "client_id": "b1", "body": "还在吗"})

    note = await frame(supervisor_page, "message")
    assert (note["text"], note["internal"]) == ("买家语气着急", True)
    assert (await frame(agent_page, "message"))["client_id"] == "n1"  # the sender's echo
    assert (await frame(buyer_page, "message"))["text"] == "还在吗"
    later = [m for m in await frames_until_quiet(buyer_page) if m.get("type") == "message"]
    assert later == []  # the note never came
    # A buyer cannot write an internal note by asking for one.
    await buyer_page.send_json_to({"type": "message", "client_id": "b2", "body": "x", "internal": True})
    assert (await frame(buyer_page, "message"))["internal"] is False
    for page in (buyer_page, agent_page, supervisor_page):
        await page.disconnect()


async def test_a_page_that_comes_back_gets_exactly_what_it_missed_in_order():
    buyer, agent, conversation = await given_a_conversation_with_an_agent()
    seen = await sync_to_async(lambda: Message.objects.filter(conversation=conversation).last().pk)()
    for n in range(3):
        await post(conversation_id=conversation.pk, author=agent, body=f"回复{n}", client_id=f"a{n}")
    await post(conversation_id=conversation.pk, author=agent, body="备注", internal=True, client_id="n")

    page = await socket(buyer, conversation.pk, hello=None)
    await page.send_json_to({"type": "hello", "after": seen})
    replay = []
    while (got := await page.receive_json_from(timeout=5))["type"] == "message":
        replay.append(got)
    assert [m["text"] for m in replay] == ["回复0", "回复1", "回复2"]
    assert [m["id"] for m in replay] == sorted(m["id"] for m in replay)
    await post(conversation_id=conversation.pk, author=agent, body="回复3", client_id="a3")
    assert (await frame(page, "message"))["text"] == "回复3"
    await page.disconnect()


async def test_a_retried_message_is_stored_once_and_echoed_with_its_client_id():
    buyer, _agent, conversation = await given_a_conversation_with_an_agent()
    page = await socket(buyer, conversation.pk)
    for _ in range(2):
        await page.send_json_to({"type": "message", "client_id": "same-1", "body": "我的退款到哪了"})
    echoes = [await frame(page, "message"), await frame(page, "message")]
    assert {e["client_id"] for e in echoes} == {"same-1"} and echoes[0]["id"] == echoes[1]["id"]
    count = await sync_to_async(
        Message.objects.filter(conversation=conversation, body="我的退款到哪了").count
    )()
    assert count == 1
    await page.disconnect()


async def test_two_tabs_retrying_the_same_message_at_once_store_it_once():
    buyer, _agent, conversation = await given_a_conversation_with_an_agent()
    tabs = [await socket(buyer, conversation.pk) for _ in range(2)]
    for tab in tabs:
        await tab.send_json_to({"type": "message", "client_id": "twice", "body": "同一条"})
    echoes = [await frame(tab, "message") for tab in tabs]
    assert echoes[0]["id"] == echoes[1]["id"]
    count = await sync_to_async(Message.objects.filter(conversation=conversation, client_id="twice").count)()
    assert count == 1
    for tab in tabs:
        await tab.disconnect()


async def test_bad_frames_get_an_error_in_chinese_and_the_socket_lives_on():
    buyer, _agent, conversation = await given_a_conversation_with_an_agent()
    page = await socket(buyer, conversation.pk)
    await page.send_to(text_data="not json {")
    assert (await frame(page, "error"))["code"] == "bad_json"
    await page.send_json_to({"type": "dance"})
    assert (await frame(page, "error"))["message"] == "无法识别的消息类型。"
    await page.send_json_to(
        {"type": "message", "client_id": "big", "body": "长" * (services.MESSAGE_MAX + 1)}
    )
    too_long = await frame(page, "error")
    assert (too_long["code"], too_long["client_id"]) == ("refused", "big") and "最多 2000 字" in too_long[
        "message"
    ]
    await page.send_to(text_data=json.dumps({"type": "message", "body": "x" * consumers.FRAME_MAX}))
    assert (await frame(page, "error"))["code"] == "too_large"
    await page.send_to(text_data='{"type": "message", "client_id": "nul", "body": "a\\u0000b"}')
    assert (await frame(page, "error"))["code"] == "bad_char"
    await page.send_to(text_data="[" * 10_000)
    assert (await frame(page, "error"))["code"] == "bad_json"
    await page.send_json_to({"type": "hello", "after": "0; drop table"})
    assert (await frame(page, "error"))["code"] == "bad_after"
    await page.send_json_to({"type": "message", "client_id": "ok", "body": "还在"})
    assert (await frame(page, "message"))["text"] == "还在"
    await page.disconnect()


async def test_a_flood_is_contained_and_what_was_sent_before_is_kept():
    buyer, _agent, conversation = await given_a_conversation_with_an_agent()
    page = await socket(buyer, conversation.pk)
    for n in range(12):  # more than 10 messages in 10 s: the extra ones are refused, not stored
        await page.send_json_to({"type": "message", "client_id": f"m{n}", "body": f"第{n}条"})
    answers = [await frame(page, "message") for _ in range(10)] + [await frame(page, "error")]
    assert answers[-1]["code"] == "too_many_messages" and answers[-1]["client_id"] == "m10"

    for _ in range(10_000):
        await page.send_to(text_data='{"type":"typing"}')
    got = []
    while (output := await page.receive_output(timeout=60))["type"] != "websocket.close":
        got.append(json.loads(output["text"]))
    assert output["code"] == 4429
    assert any(g.get("code") == "too_fast" for g in got)
    stored = await sync_to_async(
        lambda: list(
            Message.objects.filter(conversation=conversation, client_id__startswith="m").values_list(
                "body", flat=True
            )
        )
    )()
    assert stored == [f"第{n}条" for n in range(10)]


async def test_a_layer_that_is_down_never_costs_the_message(settings, caplog):
    _buyer, agent, conversation = await given_a_conversation_with_an_agent()
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]},
        }
    }
    message = await post(
        conversation_id=conversation.pk, author=agent, body="层断了也要保存", client_id="down"
    )
    stored = await sync_to_async(Message.objects.filter(pk=message.pk).exists)()
    assert stored
    assert any("could not announce" in r.getMessage() for r in caplog.records)


async def test_agents_see_who_else_has_the_conversation_open_and_who_is_typing():
    buyer, agent, conversation = await given_a_conversation_with_an_agent()
    other = await sync_to_async(f.staff)(Role.AGENT, agent_no="2003")
    buyer_page = await socket(buyer, conversation.pk)
    first = await socket(agent, conversation.pk)
    second = await socket(other, conversation.pk, hello=None)
    await second.send_json_to({"type": "hello", "after": 0})

    await viewers(first, ["2003"])
    warned = await viewers(second, ["2001"])
    assert "2001" in warned["text"] and "也打开了这个会话" in warned["text"]

    await second.send_json_to({"type": "typing"})
    typing = await frame(first, "typing")
    assert typing["text"] == "客服 2003 正在输入…"
    assert (await frame(buyer_page, "typing"))["who"] == "2003"
    await buyer_page.send_json_to({"type": "typing"})
    assert (await frame(first, "typing"))["text"] == "买家正在输入…"

    await second.disconnect()
    await viewers(first, [])
    await first.disconnect()
    await buyer_page.disconnect()


async def test_read_receipts_reach_the_writer():
    buyer, agent, conversation = await given_a_conversation_with_an_agent()
    buyer_page = await socket(buyer, conversation.pk)
    agent_page = await socket(agent, conversation.pk)
    await buyer_page.send_json_to({"type": "message", "client_id": "q1", "body": "多久能到账"})
    mine = await frame(buyer_page, "message")
    await frame(agent_page, "message")

    await agent_page.send_json_to({"type": "read", "up_to": mine["id"]})

    receipt = await frame(buyer_page, "read")
    assert receipt == {"type": "read", "by": "agent", "up_to": mine["id"]}
    read_at = await sync_to_async(lambda: Message.objects.get(pk=mine["id"]).read_at)()
    assert read_at is not None
    await buyer_page.disconnect()
    await agent_page.disconnect()


async def test_an_english_page_gets_its_errors_in_english(settings):
    buyer, _agent, conversation = await given_a_conversation_with_an_agent()
    headers = [ORIGIN, (b"cookie", await sync_to_async(session_cookie)(buyer)), (b"accept-language", b"en")]
    page = WebsocketCommunicator(application, f"/ws/support/c/{conversation.pk}/", headers=headers)
    await page.connect(timeout=5)
    await page.send_json_to({"type": "message", "client_id": "e", "body": "   "})
    refused = await frame(page, "error")
    assert refused["code"] == "refused" and refused["message"] != "请输入内容。"
    await page.disconnect()


PEOPLE = """
import json
from django.test import Client
from kameng.accounts.api import issue_token
from kameng.accounts.models import Role
from kameng.support import services
from tests import factories as f
buyer = f.buyer("fanout_buyer")
agent = f.staff(Role.AGENT, agent_no="3001")
conversation = services.conversation_for(buyer=buyer)
services.post_message(conversation_id=conversation.pk, author=buyer, body="转人工", client_id="x")
client = Client()
client.force_login(buyer)
print(json.dumps({"conversation": conversation.pk, "buyer_session": client.cookies["sessionid"].value,
                  "agent_token": issue_token(agent)}))
"""


def redis_url() -> str:
    import redis

    url = "redis://127.0.0.1:6379/11"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip(
            "Redis is not reachable on 127.0.0.1:6379 (CI has it): the fan-out across processes needs it"
        )
    return url


async def test_a_reply_posted_on_one_process_reaches_a_socket_on_another_through_redis(tmp_path):
    import asyncio

    import requests
    import websockets

    from tests import servers

    url = redis_url()
    env = await asyncio.to_thread(servers.migrated, tmp_path / "fanout.sqlite3")
    env["KAMENG_REDIS_URL"] = url
    people = await asyncio.to_thread(servers.run_django, env, PEOPLE)
    port_a, port_b = servers.free_port(), servers.free_port()
    with servers.uvicorn(env, port_a) as a, servers.uvicorn(env, port_b) as b:
        async with websockets.connect(
            f"ws://127.0.0.1:{port_a}/ws/support/c/{people['conversation']}/",
            origin=a,
            additional_headers={"Cookie": f"sessionid={people['buyer_session']}"},
        ) as page:
            await page.send(json.dumps({"type": "hello", "after": 0}))
            while json.loads(await asyncio.wait_for(page.recv(), 10))["type"] != "state":
                pass
            answer = await asyncio.to_thread(
                requests.post,
                f"{b}/api/support/conversations/{people['conversation']}/messages",
                json={"body": "来自另一个进程的回复", "client_id": "fanout-1"},
                headers={"Authorization": f"Bearer {people['agent_token']}"},
                timeout=10,
            )
            assert answer.status_code == 201, answer.text
            while (got := json.loads(await asyncio.wait_for(page.recv(), 10))).get("client_id") != "fanout-1":
                pass  # first the system's 客服 3001 为您服务。
            assert (got["text"], got["agent_no"]) == ("来自另一个进程的回复", "3001")
