"""The live chat's fan-out (issue 15, item 2): how long a reply takes to reach every open page of one
conversation, over WebSockets and over the polling fallback, in the same run on the same server.

One uvicorn process (the embedded, in-process channel layer) on a fresh SQLite database. BENCH_WS_CLIENTS
pages (500) have one conversation open: phase 1 as WebSockets, phase 2 as pages polling
`/support/c/<id>/messages/?after=` every 4 s (the page's fallback). In each phase an agent posts
BENCH_WS_MESSAGES replies through the API, one at a time; a reply's delivery latency is the time from
the agent's POST to its arrival on each page. Prints p50/p99 of each and the ratio, and writes
bench/ws_results.json. Not part of the tests: figures are reported, never asserted.
"""

import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import websockets

ROOT = Path(__file__).resolve().parents[1]
CLIENTS = int(os.environ.get("BENCH_WS_CLIENTS", "500"))
MESSAGES = int(os.environ.get("BENCH_WS_MESSAGES", "10"))
POLL_EVERY = 4.0  # as chat.js

PEOPLE = """
import json
from django.test import Client
from kameng.accounts.api import issue_token
from kameng.accounts.models import Role, User
from kameng.accounts.services import create_staff
from kameng.support import services
buyer = User.objects.create_user("bench_buyer")  # no password: the session is made directly
agent = create_staff(username="bench_agent", password="bench-agent-pass-1", roles=[Role.AGENT], agent_no="9001")
conversation = services.conversation_for(buyer=buyer)
services.post_message(conversation_id=conversation.pk, author=buyer, body="转人工", client_id="start")
services.claim(conversation_id=conversation.pk, agent=agent)
client = Client()
client.force_login(buyer)
print(json.dumps({"conversation": conversation.pk, "session": client.cookies["sessionid"].value,
                  "token": issue_token(agent), "last": conversation.messages.last().pk}))
"""


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


async def http(port: int, method: str, path: str, headers: dict, body: bytes = b"") -> tuple[int, bytes]:
    """One HTTP/1.1 request on a fresh connection (keeps the bench free of client libraries)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
    await writer.drain()
    raw = await reader.read()
    writer.close()
    head, _, content = raw.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), content


class Agent:
    def __init__(self, port: int, people: dict):
        self.port, self.people, self.sent = port, people, {}

    async def reply(self, n: int) -> None:
        text = f"回复 {n}"
        body = json.dumps({"body": text, "client_id": f"bench-{n}"}).encode()
        self.sent[text] = time.monotonic()
        status, content = await http(
            self.port,
            "POST",
            f"/api/support/conversations/{self.people['conversation']}/messages",
            {"Authorization": f"Bearer {self.people['token']}", "Content-Type": "application/json"},
            body,
        )
        assert status == 201, content


async def websocket_phase(port: int, people: dict) -> tuple[list[float], float]:
    agent = Agent(port, people)
    latencies: list[float] = []
    url = f"ws://127.0.0.1:{port}/ws/support/c/{people['conversation']}/"
    headers = {"Cookie": f"sessionid={people['session']}"}
    sockets = []
    started = time.monotonic()
    for _ in range(CLIENTS):
        ws = await websockets.connect(url, origin=f"http://127.0.0.1:{port}", additional_headers=headers)
        await ws.send(json.dumps({"type": "hello", "after": people["last"]}))
        sockets.append(ws)
    connect_time = time.monotonic() - started
    expected = MESSAGES

    async def listen(ws):
        seen = 0
        while seen < expected:
            frame = json.loads(await ws.recv())
            if frame["type"] == "message" and frame["text"] in agent.sent:
                latencies.append(time.monotonic() - agent.sent[frame["text"]])
                seen += 1

    listeners = [asyncio.create_task(listen(ws)) for ws in sockets]
    await asyncio.sleep(1)  # every hello answered
    for n in range(MESSAGES):
        await agent.reply(n)
        await asyncio.sleep(0.5)
    await asyncio.wait_for(asyncio.gather(*listeners), 120)
    for ws in sockets:
        await ws.close()
    people["last"] += MESSAGES
    return latencies, connect_time


async def polling_phase(port: int, people: dict) -> tuple[list[float], int]:
    agent = Agent(port, people)
    latencies: list[float] = []
    requests = 0
    headers = {"Cookie": f"sessionid={people['session']}", "Accept": "application/json"}
    stop = asyncio.Event()

    async def poll():
        nonlocal requests
        after = people["last"]
        seen = set()
        await asyncio.sleep(random.uniform(0, POLL_EVERY))  # pages opened at different moments
        while not stop.is_set():
            status, content = await http(
                port, "GET", f"/support/c/{people['conversation']}/messages/?after={after}", headers
            )
            requests += 1
            now = time.monotonic()
            if status == 200:
                for m in json.loads(content)["messages"]:
                    after = max(after, m["id"])
                    sent = agent.sent.get(m["text"])
                    if sent is not None and m["id"] not in seen:
                        seen.add(m["id"])
                        latencies.append(now - sent)
            await asyncio.sleep(POLL_EVERY)

    pollers = [asyncio.create_task(poll()) for _ in range(CLIENTS)]
    await asyncio.sleep(POLL_EVERY + 1)
    started = time.monotonic()
    for n in range(MESSAGES):
        await agent.reply(n + 1000)
        await asyncio.sleep(0.5)
    await asyncio.sleep(POLL_EVERY * 2)
    stop.set()
    await asyncio.gather(*pollers)
    rate = requests / (time.monotonic() - started + POLL_EVERY + 1)
    return latencies, int(rate)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT / "src"),
            "KAMENG_SQLITE_PATH": str(Path(tmp) / "ws.sqlite3"),
            "KAMENG_SANDBOX": "1",
            "KAMENG_LOG_LEVEL": "WARNING",
        }
        env.pop("KAMENG_DATABASE_URL", None)
        env.pop("KAMENG_REDIS_URL", None)  # one process, the in-process layer
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
        out = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", PEOPLE],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        people = json.loads(out.stdout.strip().splitlines()[-1])
        port = free_port()
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "kameng.asgi:application",
                "--port",
                str(port),
                "--no-access-log",
                "--log-level",
                "warning",
                "--backlog",
                "4096",
            ],
            cwd=ROOT,
            env=env,
        )
        try:
            time.sleep(4)
            ws_lat, connect_time = asyncio.run(websocket_phase(port, people))
            poll_lat, poll_rate = asyncio.run(polling_phase(port, people))
        finally:
            server.terminate()
            server.wait(timeout=10)
    result = {
        "clients": CLIENTS,
        "messages": MESSAGES,
        "websocket": {
            "deliveries": len(ws_lat),
            "p50_ms": round(statistics.median(ws_lat) * 1000, 1),
            "p99_ms": round(percentile(ws_lat, 99) * 1000, 1),
            "connect_all_s": round(connect_time, 1),
        },
        "polling": {
            "deliveries": len(poll_lat),
            "p50_ms": round(statistics.median(poll_lat) * 1000, 1) if poll_lat else None,
            "p99_ms": round(percentile(poll_lat, 99) * 1000, 1) if poll_lat else None,
            "requests_per_s": poll_rate,
        },
    }
    if poll_lat:
        result["ratio_p50_polling_over_websocket"] = round(
            result["polling"]["p50_ms"] / result["websocket"]["p50_ms"], 1
        )
        result["ratio_p99_polling_over_websocket"] = round(
            result["polling"]["p99_ms"] / result["websocket"]["p99_ms"], 1
        )
    print(json.dumps(result, indent=2, ensure_ascii=False))
    (ROOT / "bench" / "ws_results.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
