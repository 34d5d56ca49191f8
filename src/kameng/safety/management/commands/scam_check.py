"""`manage.py scam_check [FILE] [--sender seller|buyer|agent|email|social]` (SPEC §9): one message a
line from FILE (standard input without it), one JSON object a line out:
{"text", "verdict": "hold" | "warn" | "pass", "score", "categories", "rules"}. Every input line gets
one output line, blank ones too, so the output lines up with the input. Bytes are read as UTF-8,
else as GB18030; a file that is neither, or cannot be read, stops the command with a one-line reason
and a non-zero status."""

import json
import sys

from django.core.management.base import BaseCommand, CommandError

from kameng.safety import scam

MAX_BYTES = 50 * 1024 * 1024


def decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise CommandError("input is neither UTF-8 nor GB18030 text")


class Command(BaseCommand):
    stealth_options = ("stdin",)  # call_command(..., stdin=io.StringIO(...)) in tests
    help = "Check messages (one a line) against the scam rules and print one JSON verdict a line."

    def add_arguments(self, parser):
        parser.add_argument(
            "file", nargs="?", help="a text file, one message a line (default: standard input)"
        )
        parser.add_argument("--sender", choices=scam.SENDERS, default="seller")

    def handle(self, *args, file=None, sender="seller", **options):
        text = self.read(file, options.get("stdin"))
        if "\x00" in text:
            raise CommandError("input contains NUL bytes: not a text file")
        for line in text.splitlines():
            verdict = scam.check(line, sender=sender)
            self.stdout.write(json.dumps(verdict.as_dict(), ensure_ascii=False))

    def read(self, file, stdin) -> str:
        if file:
            try:
                with open(file, "rb") as f:
                    data = f.read(MAX_BYTES + 1)
            except OSError as error:
                raise CommandError(f"cannot read {file}: {error.strerror or error}") from error
        else:
            # Bytes from a real standard input (so GB18030 is recognised), text from call_command(stdin=…).
            stream = stdin if stdin is not None else sys.stdin.buffer
            try:
                data = stream.read(MAX_BYTES + 1)
            except UnicodeDecodeError as error:
                raise CommandError("input is not valid text in its encoding") from error
            if isinstance(data, str):
                if len(data) > MAX_BYTES:
                    raise CommandError(f"input is larger than {MAX_BYTES // (1024 * 1024)} MB")
                return data
        if len(data) > MAX_BYTES:
            raise CommandError(f"input is larger than {MAX_BYTES // (1024 * 1024)} MB")
        return decode(data)
