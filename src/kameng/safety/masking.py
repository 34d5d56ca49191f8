"""Secrets typed into a conversation are masked for everyone but their author (SPEC §9, issue 16
item 3): bank card numbers (16–19 digits passing the Luhn check, written with spaces or dashes or
not), mainland resident ID numbers (18 characters whose last is the ISO 7064 MOD 11-2 check), SMS and
verification codes where the words around them say so, and whatever follows 密码.

What was typed is stored as typed (the author sees it, and it is evidence); what anyone else is shown
goes through `mask()`. Numbers that merely look long (order numbers, amounts, phone numbers) are left
alone: a card must pass Luhn, an ID its check digit, a code needs its word nearby."""

import re
from dataclasses import dataclass

MASK = "*"
# Digits possibly grouped by single spaces or dashes, 16 to 19 of them (a bank card).
CARD = re.compile(r"(?<![0-9A-Za-z-])\d(?:[ -]?\d){15,18}(?![0-9A-Za-z-])")
RESIDENT_ID = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
CODE_WORDS = r"(?:短信验证码|验证码|校验码|动态码|动态密码|确认码|授权码|安全码|提取码|otp|sms\s*code|verification\s*code|code)"
# "验证码是 123456", "验证码：8866", "code 1234" — and "123456 是验证码" the other way round.
CODE_AFTER = re.compile(CODE_WORDS + r"[\s:：是为,，\"“”'()（）]{0,6}([0-9]{4,8})(?!\d)", re.IGNORECASE)
CODE_BEFORE = re.compile(
    r"(?<!\d)([0-9]{4,8})(?!\d)\s*(?:是|为|就是)?\s*(?:我的|您的|你的)?" + CODE_WORDS, re.IGNORECASE
)
# Anything after 密码 (and "password"): the next run of non-space characters.
PASSWORD = re.compile(
    r"(?:密码|口令|password|passwd|pwd)[\s:：是为,，\"“”']{0,6}([^\s，。,；;！!？?\"“”']{1,64})",
    re.IGNORECASE,
)
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"


@dataclass(frozen=True)
class Masked:
    text: str
    kinds: tuple[str, ...]  # what was found: card, id_number, code, password

    @property
    def changed(self) -> bool:
        return bool(self.kinds)


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def id_check_ok(number: str) -> bool:
    """ISO 7064 MOD 11-2, as GB 11643 uses it for the 18th character."""
    body, check = number[:17], number[17].upper()
    total = sum(int(d) * w for d, w in zip(body, ID_WEIGHTS, strict=True))
    return ID_CHECK[total % 11] == check


def mask(text: str) -> Masked:
    """The text with every secret replaced by asterisks (a card keeps its last four digits, so the
    buyer and the agent can still talk about "the card ending 1234")."""
    if not text:
        return Masked(text or "", ())
    spans: list[tuple[int, int, str, str]] = []  # start, end, replacement, kind

    for m in CARD.finditer(text):
        digits = re.sub(r"[ -]", "", m.group())
        if 16 <= len(digits) <= 19 and luhn_ok(digits):
            shown = MASK * (len(digits) - 4) + digits[-4:]
            spans.append((m.start(), m.end(), shown, "card"))
    for m in RESIDENT_ID.finditer(text):
        if id_check_ok(m.group()):
            spans.append((m.start(), m.end(), MASK * 18, "id_number"))
    for pattern in (CODE_AFTER, CODE_BEFORE):
        for m in pattern.finditer(text):
            spans.append((m.start(1), m.end(1), MASK * len(m.group(1)), "code"))
    for m in PASSWORD.finditer(text):
        spans.append((m.start(1), m.end(1), MASK * 6, "password"))
    if not spans:
        return Masked(text, ())
    return Masked(_apply(text, spans), tuple(sorted({kind for *_rest, kind in spans})))


def _apply(text: str, spans: list[tuple[int, int, str, str]]) -> str:
    """Replace the spans left to right; where two overlap, the wider one wins."""
    out, position = [], 0
    for start, end, replacement, _kind in sorted(spans, key=lambda s: (s[0], -(s[1] - s[0]))):
        if start < position:
            continue
        out.append(text[position:start])
        out.append(replacement)
        position = end
    out.append(text[position:])
    return "".join(out)


def shown_to(text: str, *, author_is_viewer: bool) -> str:
    """What a reader sees of someone's words: the author their own words, everyone else masked."""
    return text if author_is_viewer else mask(text).text
