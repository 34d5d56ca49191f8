import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand

from kameng.support.mail.inbound import reprocess_pending
from kameng.support.mail.listener import controller


class Command(BaseCommand):
    help = "Receive mail for support@ on 127.0.0.1:KAMENG_SMTP_PORT (2525) into the support conversations."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=settings.SMTP_HOST)
        parser.add_argument("--port", type=int, default=settings.SMTP_PORT)

    def handle(self, *args, host, port, **options):
        reprocess_pending()  # stored before a stop but never filed
        smtp = controller(host=host, port=port)
        smtp.start()
        self.stdout.write(f"SMTP listener on {host}:{port} for support@{settings.SUPPORT_MAIL_DOMAIN}")
        stop = threading.Event()
        signal.signal(signal.SIGINT, lambda *a: stop.set())
        signal.signal(signal.SIGTERM, lambda *a: stop.set())
        try:
            while not stop.wait(1):
                pass
        finally:
            smtp.stop()
