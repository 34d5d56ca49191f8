"""The chat over a WebSocket, `/ws/support/c/<id>/` (the frames are listed in README.md, 在线客服).

The buyer of the conversation and the people who answer buyers (services.ANSWERING_ROLES) may
connect; anyone else is closed with 4403, an anonymous socket with 4401. Everything that changes
state goes through services (a message is `post_message`, so a retry with the same client_id is
stored once); this consumer only parses frames, limits them and renders what the groups announce
in the reader's own language.

It is an async consumer whose database work runs in `database_sync_to_async` functions: a reply is
rendered for hundreds of open pages without a thread hop each (bench/ws_fanout.py).

Limits: a frame holds at most FRAME_MAX bytes; at most FRAMES_PER_SECOND frames a second and
MESSAGES_PER_WINDOW messages per MESSAGE_WINDOW seconds (beyond: an `error` frame, the frame is
dropped, nothing already stored is touched); a client that keeps flooding is closed with 4429."""

import json
import logging
import time
from collections import deque

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.db import OperationalError
from django.http import HttpRequest
from django.utils import translation
from django.utils.translation import gettext as _

from . import live, selectors, services
from .models import AuthorKind, Conversation
from .services import NeedsConfirmation, SupportError

logger = logging.getLogger(__name__)

FRAME_MAX = 16 * 1024
FRAMES_PER_SECOND = 30
MESSAGES_PER_WINDOW = 10
MESSAGE_WINDOW = 10.0
FLOOD_CLOSE = 300  # frames dropped for speed before the socket is closed
TYPING_EVERY = 2.0  # seconds between two typing notices passed on

CLOSE_ANONYMOUS = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_FLOOD = 4429


def language_of(scope) -> str:
    """The language the person's pages are in: their language cookie, else their browser's."""
    request = HttpRequest()
    request.COOKIES = dict(scope.get("cookies") or {})
    for name, value in scope.get("headers") or []:
        if name == b"accept-language":
            request.META["HTTP_ACCEPT_LANGUAGE"] = value.decode("latin-1")
    return translation.get_language_from_request(request)


class ChatConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        self.joined = False
        self.closed = False
        self.ready = False  # live messages wait for `hello`, whose replay reads them from the database
        self.replayed: set[int] = set()
        self.echoed: set[int] = set()
        self.viewers: dict[str, tuple[int, str]] = {}
        self.second_started, self.frames_this_second, self.dropped, self.warned = 0.0, 0, 0, False
        self.sent_at: deque[float] = deque()
        self.typing_sent = 0.0
        self.lang = language_of(self.scope)
        self.user = self.scope.get("user")
        await self.accept()
        # Accepted first, so that the page reads the reason from the close code and stops retrying.
        if self.user is None or not self.user.is_authenticated:
            await self.shut(CLOSE_ANONYMOUS)
            return
        found = await self.find_conversation(self.scope["url_route"]["kwargs"]["conversation_id"])
        if found is None:
            await self.shut(CLOSE_FORBIDDEN)
            return
        self.conversation, self.staff = found
        self.agent_no = (self.user.agent_no or "") if self.staff else ""
        self.group = (live.staff_group if self.staff else live.buyer_group)(self.conversation.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        self.joined = True
        if self.staff:
            await self.tell_staff({"action": "join"})

    @database_sync_to_async
    def find_conversation(self, conversation_id: int) -> tuple[Conversation, bool] | None:
        """The conversation and whether this socket is a staff one; None when the user may not see it."""
        conversation = Conversation.objects.filter(pk=conversation_id).first()
        if conversation is None:
            return None
        if conversation.buyer_id == self.user.pk:
            return conversation, False
        if services.may_answer(self.user):
            return conversation, True
        return None

    async def disconnect(self, code):
        if not self.joined:
            return
        await self.channel_layer.group_discard(self.group, self.channel_name)
        if self.staff:
            await self.tell_staff({"action": "leave"})

    async def shut(self, code: int) -> None:
        self.closed = True
        await self.close(code=code)

    # --- frames from the page ------------------------------------------------------------------

    async def receive(self, text_data=None, bytes_data=None):
        if self.closed or not self.joined or not await self.within_rate():
            return
        with translation.override(self.lang):
            if text_data is None:
                await self.error("bad_frame", _("只接受文本消息。"))
                return
            if len(text_data) > FRAME_MAX or len(text_data.encode()) > FRAME_MAX:
                await self.error("too_large", _("消息太长（最多 %(n)d 字节），没有发出。") % {"n": FRAME_MAX})
                return
            try:
                content = json.loads(text_data)
            except (ValueError, RecursionError):
                await self.error("bad_json", _("无法识别的消息格式。"))
                return
            kind = content.get("type") if isinstance(content, dict) else None
            handler = {
                "hello": self.on_hello,
                "message": self.on_message,
                "typing": self.on_typing,
                "read": self.on_read,
            }.get(kind if isinstance(kind, str) else "")
            if handler is None:
                await self.error("unknown_type", _("无法识别的消息类型。"))
                return
            try:
                await handler(content)
            except OperationalError as e:
                # The database was busy (SQLite's writer lock, PostgreSQL out of connections): the
                # transaction rolled back, so asking the page to send again is honest and safe.
                logger.warning("live chat: database busy: %s", e)
                extra = (
                    {"client_id": content["client_id"]} if isinstance(content.get("client_id"), str) else {}
                )
                await self.error(
                    "busy", _("系统繁忙，请稍后重试。本次操作没有生效，已保存的内容不会丢失。"), **extra
                )

    async def within_rate(self) -> bool:
        now = time.monotonic()
        if now - self.second_started >= 1:
            self.second_started, self.frames_this_second, self.warned = now, 0, False
        self.frames_this_second += 1
        if self.frames_this_second <= FRAMES_PER_SECOND:
            return True
        self.dropped += 1
        if self.dropped >= FLOOD_CLOSE:
            await self.shut(CLOSE_FLOOD)
        elif not self.warned:
            self.warned = True
            with translation.override(self.lang):
                await self.error("too_fast", _("操作太频繁，请稍后再试。"))
        return False

    async def on_hello(self, content: dict) -> None:
        after = content.get("after", 0)
        if not isinstance(after, int) or isinstance(after, bool) or after < 0:
            await self.error("bad_after", _("after 必须是非负整数。"))
            return
        frames = await self.replay(after)
        for frame in frames:
            self.replayed.add(frame["id"])
            await self.send_json(frame)
        await self.send_json(live.state_frame(self.conversation.state))
        self.ready = True
        if self.staff:
            await self.send_viewers()

    @database_sync_to_async
    def replay(self, after: int) -> list[dict]:
        with translation.override(self.lang):
            self.conversation.refresh_from_db(fields=["state"])
            return [
                live.message_frame(live.message_event(m), viewer_id=self.user.pk)
                for m in selectors.messages_of(self.conversation, for_staff=self.staff, after=after)
            ]

    async def on_message(self, content: dict) -> None:
        client_id, body = content.get("client_id"), content.get("body")
        if not isinstance(client_id, str) or not client_id.strip() or len(client_id) > services.CLIENT_ID_MAX:
            await self.error("bad_client_id", _("缺少 client_id（每条消息一个，最长 64 字符）。"))
            return
        if not isinstance(body, str):
            await self.error("bad_body", _("请输入内容。"), client_id=client_id)
            return
        if "\x00" in body or "\x00" in client_id:  # PostgreSQL cannot store it; the form door refuses it too
            await self.error(
                "bad_char", _("消息中含有无法保存的字符（NUL），没有发出。"), client_id=client_id
            )
            return
        now = time.monotonic()
        while self.sent_at and now - self.sent_at[0] > MESSAGE_WINDOW:
            self.sent_at.popleft()
        if len(self.sent_at) >= MESSAGES_PER_WINDOW:
            await self.error(
                "too_many_messages",
                _("发送太快：每 %(s)d 秒最多 %(n)d 条，这条没有发出，请稍后再发。")
                % {"s": MESSAGE_WINDOW, "n": MESSAGES_PER_WINDOW},
                client_id=client_id,
            )
            return
        self.sent_at.append(now)
        try:
            frame = await self.post(
                body=body,
                client_id=client_id,
                internal=content.get("internal") is True,
                confirmed=content.get("confirm") is True,
            )
        except NeedsConfirmation as e:
            await self.error("confirm", str(e), client_id=client_id)
            return
        except SupportError as e:
            await self.error("refused", str(e), client_id=client_id)
            return
        # The group announces it too; this socket has it already (a retry is answered here alone).
        self.echoed.add(frame["id"])
        await self.send_json(frame)

    @database_sync_to_async
    def post(self, *, body: str, client_id: str, internal: bool, confirmed: bool) -> dict:
        with translation.override(self.lang):
            message = services.post_message(
                conversation_id=self.conversation.pk,
                author=self.user,
                body=body,
                client_id=client_id,
                internal=self.staff and internal,
                confirmed=confirmed,
            )
            return live.message_frame(live.message_event(message), viewer_id=self.user.pk)

    async def on_typing(self, content: dict) -> None:
        now = time.monotonic()
        if now - self.typing_sent < TYPING_EVERY:
            return
        self.typing_sent = now
        event = {
            "type": "chat.typing",
            "who": self.agent_no if self.staff else AuthorKind.BUYER,
            "name": self.staff_name(),
            "user": self.user.pk,
            "from": self.channel_name,
        }
        groups = [live.staff_group(self.conversation.pk)]
        if self.staff and content.get("internal") is not True:
            groups.append(live.buyer_group(self.conversation.pk))
        await self.broadcast(groups, event)

    async def broadcast(self, groups: list[str], event: dict) -> None:
        """Typing and viewers are passing news: a layer that is down costs a log line, not the socket."""
        try:
            for group in groups:
                await self.channel_layer.group_send(group, event)
        except Exception as e:  # whatever the layer raises
            logger.warning("live chat: could not pass on %s: %r", event["type"], e)

    async def on_read(self, content: dict) -> None:
        up_to = content.get("up_to")
        if not isinstance(up_to, int) or isinstance(up_to, bool) or up_to < 0:
            await self.error("bad_up_to", _("up_to 必须是非负整数。"))
            return
        await database_sync_to_async(services.mark_read)(
            conversation=self.conversation, reader=self.user, up_to=up_to
        )

    async def error(self, code: str, message: str, **extra) -> None:
        await self.send_json({"type": "error", "code": code, "message": message, **extra})

    # --- what the groups announce ------------------------------------------------------------

    async def chat_message(self, event):
        message = event["message"]
        if not self.ready or message["id"] in self.replayed:
            return
        if message["id"] in self.echoed:
            self.echoed.discard(message["id"])
            return
        if message["internal"] and not self.staff:
            return
        with translation.override(self.lang):
            frame = live.message_frame(message, viewer_id=self.user.pk)
        await self.send_json(frame)

    async def chat_state(self, event):
        with translation.override(self.lang):
            frame = live.state_frame(event["state"])
        await self.send_json(frame)

    async def chat_read(self, event):
        await self.send_json({"type": "read", "by": event["by"], "up_to": event["up_to"]})

    async def chat_typing(self, event):
        if event["from"] == self.channel_name or event["user"] == self.user.pk:
            return
        # Another agent without a 工号 (an admin) is named to staff by username, to a buyer as 客服.
        who = event["name"] if self.staff and event["who"] != AuthorKind.BUYER else event["who"]
        with translation.override(self.lang):
            text = live.typing_text(who)
        await self.send_json({"type": "typing", "who": event["who"], "text": text})

    # --- which other agents have this conversation open (staff sockets only) --------------------

    def viewer_event(self, action: str) -> dict:
        return {
            "type": "chat.viewer",
            "action": action,
            "from": self.channel_name,
            "user": self.user.pk,
            "agent_no": self.staff_name(),
        }

    async def tell_staff(self, event: dict) -> None:
        await self.broadcast([self.group], self.viewer_event(event["action"]))

    async def chat_viewer(self, event):
        sender = event["from"]
        if sender == self.channel_name:
            return
        if event["action"] == "leave":
            self.viewers.pop(sender, None)
        else:
            self.viewers[sender] = (event["user"], event["agent_no"])
        if event["action"] == "join":
            # The newcomer learns who was here before it.
            await self.channel_layer.send(sender, self.viewer_event("here"))
        await self.send_viewers()

    def staff_name(self) -> str:
        return (self.agent_no or self.user.get_username()) if self.staff else ""

    async def send_viewers(self) -> None:
        others = sorted({no for user, no in self.viewers.values() if user != self.user.pk})
        with translation.override(self.lang):
            text = (
                _("客服 %(nos)s 也打开了这个会话；回复前请先协调，以免重复答复。")
                % {"nos": "、".join(others)}
                if others
                else ""
            )
        await self.send_json({"type": "viewers", "open": others, "text": text})
