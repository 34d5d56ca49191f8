"""`make run`: the web server, the background worker and the tick, as one foreground command."""

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve kameng on http://127.0.0.1:8000 with its worker and timer tick (everything embedded)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("KAMENG_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("KAMENG_PORT", "8000")))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("KAMENG_WEB_WORKERS", "1")))

    def handle(self, *args, host, port, workers, **options):
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        src = str(settings.BASE_DIR / "src")
        env = {**os.environ, "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", "")}
        if settings.REDIS_URL:
            worker = [
                *manage,
                "rqworker",
                "--job-class",
                "django_tasks_rq.Job",
                "--with-scheduler",
                "default",
            ]
        else:
            worker = [*manage, "db_worker", "--no-reload", "--interval", "0.5"]
        commands = {
            "web": [
                sys.executable,
                "-m",
                "uvicorn",
                "kameng.asgi:application",
                "--app-dir",
                src,
                "--host",
                host,
                "--port",
                str(port),
                "--workers",
                str(workers),
                "--no-access-log",
                # The chat's frames are small (consumers.FRAME_MAX); a huge one is cut at the door.
                "--ws-max-size",
                "65536",
            ],
            "worker": worker,
            "tick": [*manage, "tick", "--loop", "--interval", "5"],
            # Mail to support@kameng.local (SPEC §12): 127.0.0.1:KAMENG_SMTP_PORT, 2525 by default.
            "smtp": [*manage, "smtp_listener"],
        }
        procs = {name: subprocess.Popen(cmd, env=env) for name, cmd in commands.items()}
        self.stdout.write(f"kameng serving on http://{host}:{port}/  (API: /api/, schema: /api/openapi.json)")
        self.stdout.write(
            f"worker, tick and SMTP listener (127.0.0.1:{settings.SMTP_PORT}, "
            f"{settings.SUPPORT_MAIL_FROM}) running; press Ctrl+C to stop"
        )
        if settings.SANDBOX:
            self.stdout.write("sandbox gateway and supplier ON (KAMENG_SANDBOX=1): not for production")
        stopping = False

        def stop(*_):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping:
                for name, proc in procs.items():
                    if proc.poll() is not None:
                        self.stderr.write(f"{name} exited with {proc.returncode}; restarting")
                        procs[name] = subprocess.Popen(commands[name], env=env)
                        time.sleep(1)
                time.sleep(0.5)
        finally:
            for proc in procs.values():
                proc.terminate()
            for proc in procs.values():
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
