from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from imapclient.exceptions import IMAPClientError

from kameng.support.mail.imap import fetch_imap


class Command(BaseCommand):
    help = "Fetch unseen mail from KAMENG_IMAP_URL (or --url) into the support conversations."

    def add_arguments(self, parser):
        parser.add_argument("--url", default=settings.IMAP_URL)

    def handle(self, *args, url, **options):
        if not url:
            raise CommandError(
                "no mailbox: set KAMENG_IMAP_URL or pass --url imap://user:pass@host:port/INBOX"
            )
        try:
            count = fetch_imap(url)
        except (OSError, IMAPClientError) as error:
            raise CommandError(f"could not fetch mail from the mailbox: {error}") from error
        self.stdout.write(f"{count} mail(s) fetched")
