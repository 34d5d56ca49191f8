"""Reading a mail as Chinese mail really arrives (SPEC §8 Email): subjects and bodies in GBK, GB18030,
GB2312, Big5 or UTF-8, RFC 2047 encoded words, raw 8-bit headers, HTML-only mail, attachments with
RFC 2231 or encoded-word names.

Real mail lies about its charset: a part labelled GB2312 is often GBK or GB18030 (喆, 镕, an en dash),
Big5 is often Big5-HKSCS. So each label is read as its superset. Text that still cannot be decoded is
shown with replacement marks and the mail is flagged for a person; its raw bytes are kept by the
caller (InboundMail.raw), never dropped.

The structure is read with the compat32 policy: the default policy decodes encoded words with the
label as given (the lie), and we need the label and the bytes to decode them ourselves. Addresses are
read with `email.utils`. A mail over the size cap is not parsed at all (only its headers are read),
and one with too many parts is not decoded: a mail bomb must not eat memory."""

import codecs
import email
import hashlib
import re
from dataclasses import dataclass, field
from email import policy
from email.header import Header, decode_header
from email.utils import getaddresses, parseaddr
from html.parser import HTMLParser

from django.conf import settings
from django.utils.translation import gettext_noop

from kameng.sentences import Sentence

MAX_PARTS = 100
# Labels we read as their superset (the names Python's codecs know them by, after lookup).
SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030", "gb18030": "gb18030", "big5": "big5hkscs"}
HEADER_LIMIT = 64 * 1024


@dataclass
class Attachment:
    name: str
    content_type: str
    data: bytes


@dataclass
class ParsedMail:
    message_id: str = ""
    sender: str = ""
    sender_name: str = ""
    subject: str = ""
    text: str = ""
    recipients: list[str] = field(default_factory=list)
    in_reply_to: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    problems: list[Sentence] = field(default_factory=list)
    parsed: bool = True  # False: too big or too many parts; only the headers were read
    automatic: bool = False  # an auto-reply or list mail (RFC 3834): never answered automatically


def codec_for(label: str | None) -> str | None:
    """The codec to decode text labelled `label` with: its superset; None when unlabelled or unknown."""
    label = (label or "").strip().strip("\"'").lower()
    if not label or label in {"unknown-8bit", "x-unknown"}:
        return None
    try:
        name = codecs.lookup(label).name
    except LookupError:
        name = "gb18030" if label.startswith(("x-gb", "gb")) else "big5" if "big5" in label else ""
    return SUPERSETS.get(name, name) or None


def decode_bytes(data: bytes, label: str | None) -> tuple[str, bool]:
    """(text, clean): decoded with the label's superset; unlabelled bytes that are not UTF-8 are tried
    as GB18030 (Chinese mail without a label); what still fails is shown with replacement marks."""
    codec = codec_for(label)
    tries = [codec] if codec else ["utf-8", "gb18030"]
    for name in tries:
        try:
            return data.decode(name), True
        except UnicodeDecodeError:
            continue
    return data.decode(tries[0], errors="replace"), False


def header_text(value, problems: list[Sentence], what: str) -> str:
    """A header's text: encoded words decoded with the superset of their label; raw 8-bit bytes
    (a mailer that did not encode) tried as UTF-8 then GB18030."""
    if value is None:
        return ""
    if not isinstance(value, Header):  # compat32 hands raw 8-bit headers over as Header objects
        value = str(value)
    out = []
    clean = True
    for chunk, label in decode_header(value):
        if isinstance(chunk, str):
            raw = chunk.encode("ascii", "surrogateescape") if _has_surrogates(chunk) else None
            if raw is None:
                out.append(chunk)
                continue
            chunk, label = raw, None
        text, ok = decode_bytes(chunk, label or ("ascii" if chunk.isascii() else None))
        clean = clean and ok
        out.append(text)
    if not clean:
        problems.append(
            Sentence(gettext_noop("邮件%(what)s的字符无法识别，已保留原始内容"), what=Sentence(what))
        )
    return re.sub(r"\s+", " ", "".join(out)).strip()


def _has_surrogates(text: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in text)


class TextFromHtml(HTMLParser):
    """The words of an HTML part: tags dropped, scripts and styles dropped, blocks on their own lines."""

    SKIP = {"script", "style", "head", "title", "noscript", "template"}
    BLOCK = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote", "hr"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in self.BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in self.SKIP:
            self.skipping = max(self.skipping - 1, 0)
        elif tag in self.BLOCK:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)

    def text(self) -> str:
        lines = (re.sub(r"[ \t\r\f\v\xa0]+", " ", line).strip() for line in "".join(self.parts).split("\n"))
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def html_to_text(html: str) -> str:
    parser = TextFromHtml()
    parser.feed(html)
    parser.close()
    return parser.text()


def message_id_key(message_id: str) -> str:
    """A Message-ID short enough for an indexed column (long ones are hashed)."""
    return (
        message_id if len(message_id) <= 255 else "sha256:" + hashlib.sha256(message_id.encode()).hexdigest()
    )


def ids_in(value) -> list[str]:
    return re.findall(r"<[^<>\s]+>", str(value or ""))


def parse(raw: bytes) -> ParsedMail:
    big = len(raw) > settings.MAIL_PARSE_MAX_BYTES
    head = raw[:HEADER_LIMIT] if big else raw
    if big:
        end = min((i for i in (head.find(b"\r\n\r\n"), head.find(b"\n\n")) if i >= 0), default=len(head))
        head = head[:end] + b"\r\n\r\n"
    msg = email.message_from_bytes(head, policy=policy.compat32)
    mail = ParsedMail()
    mail.message_id = (ids_in(msg.get("Message-ID")) or [""])[0]
    mail.in_reply_to = ids_in(msg.get("In-Reply-To")) + ids_in(msg.get("References"))
    mail.automatic = str(msg.get("Auto-Submitted", "no")).strip().lower() != "no" or str(
        msg.get("Precedence", "")
    ).strip().lower() in {"bulk", "junk", "list", "auto_reply"}
    name, address = parseaddr(header_text(msg.get("From"), mail.problems, gettext_noop("发件人")))
    plain_address = parseaddr(str(msg.get("From", "")))[1]
    if "@" in plain_address:  # the address as written, whatever the decoded name holds
        address = plain_address
    mail.sender = address.strip().lower()[:320]
    mail.sender_name = name.strip()[:200]
    mail.subject = header_text(msg.get("Subject"), mail.problems, gettext_noop("主题"))[:500]
    mail.recipients = [
        a.strip().lower()
        for _n, a in getaddresses([str(v) for v in msg.get_all("To", []) + msg.get_all("Cc", [])])
    ]
    if big:
        mail.parsed = False
        mail.problems.append(
            Sentence(
                gettext_noop("邮件过大（%(mb).1f MB），未解析正文和附件，原始邮件已保留"),
                mb=len(raw) / 1024 / 1024,
            )
        )
        return mail
    parts = list(msg.walk())
    if len(parts) > MAX_PARTS:
        mail.parsed = False
        mail.problems.append(
            Sentence(gettext_noop("邮件有 %(n)d 个部分，超过上限，未解析，原始邮件已保留"), n=len(parts))
        )
        return mail
    read_parts(parts, mail)
    return mail


def read_parts(parts, mail: ParsedMail) -> None:
    plain, html = [], []
    for part in parts:
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        name = part_name(part, mail.problems)
        data = part.get_payload(decode=True) or b""
        if name or part.get_content_disposition() == "attachment" or not ctype.startswith("text/"):
            mail.attachments.append(Attachment(name=name or "attachment", content_type=ctype, data=data))
            continue
        text, clean = decode_bytes(data, part.get_content_charset())
        if not clean:
            mail.problems.append(
                Sentence(
                    gettext_noop("正文（标注字符集 %(label)s）有无法识别的字符，原始邮件已保留，可下载查看"),
                    label=part.get_content_charset() or "-",
                )
            )
        (html if ctype == "text/html" else plain).append(text)
    if plain:
        mail.text = "\n\n".join(t.strip() for t in plain).strip()
    elif html:
        mail.text = "\n\n".join(html_to_text(t) for t in html).strip()


def part_name(part, problems: list[Sentence]) -> str:
    """An attachment's name: RFC 2231 (charset''percent-bytes) or an encoded word, charset as superset."""
    value = part.get_param("filename", header="content-disposition") or part.get_param("name")
    if not value:
        return ""
    if isinstance(value, tuple):  # RFC 2231: (charset, language, text as latin-1 code points)
        label, _lang, text = value
        data = bytes(text, "raw-unicode-escape")
        name, ok = decode_bytes(data, label or None)
        if not ok:
            problems.append(Sentence(gettext_noop("附件名的字符无法识别")))
    else:
        name = header_text(email.utils.unquote(value), problems, gettext_noop("附件名"))
    return name.replace("/", "_").replace("\\", "_").strip()[:200]
