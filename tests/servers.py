"""Real servers for the tests that need more than the in-process test client: uvicorn processes
serving `kameng.asgi` (WebSockets: pytest-django's live_server is WSGI only) on a SQLite file
migrated for the test, with the people a test needs created in that file."""

import json
import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(sqlite_path: Path, **extra: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "KAMENG_SQLITE_PATH": str(sqlite_path), **extra}
    env.pop("KAMENG_DATABASE_URL", None)  # never the PostgreSQL database the test run points at
    if "KAMENG_REDIS_URL" not in extra:
        env.pop("KAMENG_REDIS_URL", None)
    env["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    return env


def migrated(sqlite_path: Path) -> dict:
    env = server_env(sqlite_path)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=300
    )
    return env


def run_django(env: dict, code: str) -> dict:
    """Run `code` with Django set up against the server's database; it prints one JSON object."""
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=120,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


@contextmanager
def uvicorn(env: dict, port: int):
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "kameng.asgi:application", "--port", str(port), "--no-access-log"],
        cwd=ROOT,
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"uvicorn on port {port} did not start") from None
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
