"""Mail to support@kameng.local, sent over real SMTP to kameng's own listener (issue 15, item 5; SPEC
§8 Email, §12): Chinese mail in every charset it really arrives in lands in the buyer's conversation;
紧急退款-<订单号> is urgent; strangers are kept for a person and told nothing; a mail delivered twice
is filed once; a flood is kept but not answered; an agent's reply goes out by email and the answer
comes back into the same conversation; the IMAP mailbox is fetched once however often it is read."""

import email
import io
import os
import shutil
import signal
import smtplib
import socket
import subprocess
import tempfile
import time
from email import policy
from email.header import Header
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import make_msgid
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from PIL import Image

from kameng.accounts.models import Role
from kameng.accounts.services import register_buyer
from kameng.ops.tick import tick
from kameng.orders.services import place_order
from kameng.support.mail import outbound
from kameng.support.mail.inbound import receive
from kameng.support.mail.listener import controller
from kameng.support.mail.parse import parse
from kameng.support.models import Conversation, ConversationState, InboundMail, Message, OutboundMail
from tests import factories as f
from tests.orders.helpers import at_once

pytestmark = pytest.mark.django_db(transaction=True)

SUPPORT = "support@kameng.local"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def listener(settings):
    """kameng's SMTP listener on a free port, with small caps so the size tests stay fast."""
    settings.MAIL_MAX_BYTES = 400_000
    settings.MAIL_PARSE_MAX_BYTES = 200_000
    port = free_port()
    smtp = controller(host="127.0.0.1", port=port)
    smtp.start()
    yield port
    smtp.stop()


class Collect:
    def __init__(self):
        self.mails = []

    async def handle_DATA(self, server, session, envelope):
        self.mails.append(
            (envelope.rcpt_tos, email.message_from_bytes(envelope.content, policy=policy.default))
        )
        return "250 OK"


@pytest.fixture
def mail_out(settings):
    """Another SMTP server standing for the buyer's mail provider: what kameng sends arrives here."""
    collect = Collect()
    port = free_port()
    server = Controller(collect, hostname="127.0.0.1", port=port)
    server.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield collect.mails
    server.stop()


def send(port: int, mail, *, sender: str = "", to: str = SUPPORT) -> None:
    raw = mail if isinstance(mail, bytes) else mail.as_bytes(policy=mail.policy.clone(linesep="\r\n"))
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        smtp.sendmail(sender or "someone@example.com", [to], raw)


def buyer_with_email(address: str, balance: int = 0):
    user = register_buyer(username=address.split("@")[0], password=f.PASSWORD, email=address)
    if balance:
        f.fund(user, balance)
    return user


def text_mail(body: str, charset: str, *, subject, sender: str, label: str | None = None, html=False):
    """A mail as a Chinese mailer writes it: `charset` bytes, labelled `label` (the lie)."""
    part = MIMEText(body, "html" if html else "plain", charset)
    if label:
        part.set_param("charset", label)
    part["Subject"] = subject
    part["From"] = sender
    part["To"] = SUPPORT
    part["Message-ID"] = make_msgid(domain="example.com")
    return part


def lying_subject(text: str, charset: str, label: str) -> str:
    return Header(text, charset).encode().replace(f"?{charset}?", f"?{label}?")


def page(client, user, conversation) -> str:
    client.force_login(user)
    return client.get(f"/support/c/{conversation.pk}/").content.decode()


def staff_page(client, conversation) -> str:
    client.force_login(f.staff(Role.AGENT))
    return client.get(f"/support/staff/c/{conversation.pk}/").content.decode()


def test_gbk_mail_labelled_gb2312_about_an_order_lands_urgent_in_that_orders_conversation(listener, client):
    buyer = buyer_with_email("TaoZhe@Example.com", balance=50_00)
    order = place_order(buyer=buyer, product=f.product(price=10_00, keys=1))
    subject = lying_subject(f"紧急退款-{order.no} 陶喆", "gbk", "gb2312")
    body = "朱镕基说卡密无效，已经扣款，请尽快退款。"
    send(listener, text_mail(body, "gbk", label="gb2312", subject=subject, sender="taozhe@example.com"))

    conversation = Conversation.objects.get(buyer=buyer, order=order)
    assert conversation.urgent and conversation.state == ConversationState.QUEUED
    shown = page(client, buyer, conversation)
    assert "朱镕基说卡密无效" in shown and "陶喆" in shown
    assert "朱镕基说卡密无效" in staff_page(client, conversation)
    mail = InboundMail.objects.get()
    assert mail.state == InboundMail.State.FILED and not mail.needs_review


def test_html_only_mail_with_an_en_dash_is_read_as_text_without_its_script(listener, client):
    buyer = buyer_with_email("li@example.com")
    html = "<html><head><style>p{color:red}</style></head><body><script>alert('x')</script>"
    html += "<p>充值 50–100 元&nbsp;没到账</p><p>第二段 &amp; 结尾</p></body></html>"
    send(
        listener,
        text_mail(html, "gb18030", label="gb2312", subject="充值", sender="li@example.com", html=True),
    )

    message = Message.objects.get(author_kind="buyer")
    assert "充值 50–100 元 没到账\n" in message.body and "第二段 & 结尾" in message.body
    assert "alert" not in message.body and "color" not in message.body
    assert "50–100" in page(client, buyer, message.conversation)


def test_big5_mail_with_hkscs_characters_and_a_utf8_encoded_word_subject(listener, client):
    buyer = buyer_with_email("hk@example.com")
    body = "我嘅訂單冇收到，啲卡密喺邊度？"
    subject = Header("退款 進度 ✓", "utf-8").encode()
    send(listener, text_mail(body, "big5hkscs", label="big5", subject=subject, sender="HK@example.com"))

    message = Message.objects.get(author_kind="buyer")
    assert body in message.body and "退款 進度 ✓" in message.body
    assert InboundMail.objects.get().subject == "退款 進度 ✓"
    assert body in page(client, buyer, message.conversation)


@pytest.mark.parametrize(
    ("charset", "label"),
    [("utf-8", "utf-8"), ("gb2312", "gb2312"), ("gbk", "gbk"), ("gb18030", "gb18030"), ("gbk", None)],
)
def test_each_charset_decodes_subject_and_body(charset, label):
    text = "退款申请" if charset == "gb2312" else "退款申请 陶喆 朱镕基"
    part = MIMEText(text, "plain", charset)
    if label is None:  # a mailer that labels nothing: GBK bytes are still read
        del part["Content-Type"]
        part["Content-Type"] = "text/plain"
    part["Subject"] = Header(text, charset).encode()
    parsed = parse(part.as_bytes())
    assert parsed.subject == text and parsed.text == text and not parsed.problems


def test_raw_8bit_gbk_headers_and_q_encoded_words_are_read():
    raw = "Subject: 退款 陶喆\r\nFrom: 张三 <z@example.com>\r\n\r\nhello\r\n".encode("gbk")
    assert parse(raw).subject == "退款 陶喆"
    assert parse(raw).sender_name == "张三" and parse(raw).sender == "z@example.com"
    q = b"Subject: =?gb2312?Q?=CC=D5=86=B4?= =?utf-8?B?6YCA5qy+?=\r\n\r\nx"
    assert parse(q).subject == "陶喆退款"


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 3), "red").save(out, "PNG")
    return out.getvalue()


def test_attachments_with_chinese_names_are_stored_checked_and_a_disguised_one_refused(listener, client):
    buyer = buyer_with_email("att@example.com")
    mail = MIMEMultipart()
    mail["Subject"], mail["From"], mail["To"] = "附件", "att@example.com", SUPPORT
    mail.attach(MIMEText("截图见附件", "plain", "utf-8"))
    image = MIMEApplication(png(), "octet-stream")
    image.add_header("Content-Disposition", "attachment", filename=("gbk", "", "订单截图 陶喆.png"))
    mail.attach(image)
    text = MIMEApplication("卡密：ABC-123".encode(), "octet-stream")
    text.add_header("Content-Disposition", "attachment", filename=Header("聊天记录.txt", "gb2312").encode())
    mail.attach(text)
    disguised = MIMEApplication(b"MZ\x90\x00\x03" + b"\x00" * 200, "octet-stream")
    disguised.add_header("Content-Disposition", "attachment", filename=("utf-8", "", "发票.pdf"))
    mail.attach(disguised)
    send(listener, mail)

    stored = InboundMail.objects.get()
    assert [a["name"] for a in stored.attachments] == ["订单截图 陶喆.png", "聊天记录.txt", "发票.pdf"]
    message = Message.objects.get(author_kind="buyer")
    files = {a.original_name: a for a in message.attachments.all()}
    assert files["订单截图 陶喆.png"].content_type == "image/png" and files["订单截图 陶喆.png"].file
    assert files["聊天记录.txt"].file.read().decode() == "卡密：ABC-123"
    assert files["发票.pdf"].refused and not files["发票.pdf"].file
    assert stored.needs_review and "发票.pdf" in " ".join(stored.problem_texts())
    shown = page(client, buyer, message.conversation)
    assert "截图见附件" in shown and "订单截图 陶喆.png" in shown and "发票.pdf" in shown


def test_undecodable_text_is_flagged_for_a_person_and_the_raw_mail_kept(listener, client):
    buyer = buyer_with_email("bad@example.com")
    raw = (
        b"From: bad@example.com\r\nTo: support@kameng.local\r\nSubject: =?gb2312?B?zcu/7g==?=\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=gb2312\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\n\xcd\xcb\xbf\xee \xff\xfe\x80 ok\r\n"
    )
    send(listener, raw)

    mail = InboundMail.objects.get()
    assert mail.needs_review and bytes(mail.raw).endswith(b"\xcd\xcb\xbf\xee \xff\xfe\x80 ok\r\n")
    assert "无法识别" in " ".join(mail.problem_texts())
    assert mail.subject == "退款" and "退款" in mail.message.body  # the readable part is still read
    assert "无法识别" in staff_page(client, mail.conversation)
    agent = f.staff(Role.AGENT)
    client.force_login(agent)
    listing = client.get("/support/staff/mail/").content.decode()
    assert "bad@example.com" in listing
    download = client.get(f"/support/staff/mail/{mail.pk}/raw/")
    assert download.status_code == 200 and download.content == bytes(mail.raw)
    client.force_login(buyer)
    assert client.get(f"/support/staff/mail/{mail.pk}/raw/").status_code == 403


def test_a_mail_over_the_parse_cap_is_kept_unparsed_and_one_over_the_limit_refused(listener):
    buyer_with_email("big@example.com")
    big = MIMEMultipart()
    big["Subject"], big["From"] = "大附件", "big@example.com"
    big.attach(MIMEText("看附件", "plain", "utf-8"))
    big.attach(MIMEApplication(b"x" * 180_000))
    send(listener, big)
    mail = InboundMail.objects.get()
    assert mail.needs_review and "过大" in " ".join(mail.problem_texts())
    assert mail.subject == "大附件" and mail.text == "" and mail.size == len(bytes(mail.raw)) > 200_000

    huge = MIMEApplication(b"x" * 500_000)
    with pytest.raises(smtplib.SMTPException) as refused:
        send(listener, huge)
    assert "552" in str(refused.value) and InboundMail.objects.count() == 1


def test_mail_for_another_address_is_refused(listener):
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        send(listener, MIMEText("hi"), to="ceo@kameng.local")
    assert 550 in [code for code, _msg in refused.value.recipients.values()]
    assert InboundMail.objects.count() == 0


def test_an_unknown_sender_is_kept_for_identity_check_and_told_nothing_about_anyone(
    listener, client, mail_out
):
    victim = buyer_with_email("victim@example.com", balance=50_00)
    order = place_order(buyer=victim, product=f.product(price=10_00, keys=1))
    subject = f"紧急退款-{order.no}"
    send(listener, text_mail("我的退款进度？", "utf-8", subject=subject, sender="scammer@evil.example"))

    mail = InboundMail.objects.get()
    assert mail.state == InboundMail.State.IDENTITY and mail.conversation is None
    assert not Message.objects.exists() and not Conversation.objects.exists()
    outbound.send_due()
    assert mail_out == [] and not OutboundMail.objects.exists()
    client.force_login(f.staff(Role.AGENT))
    listing = client.get("/support/staff/mail/").content.decode()
    assert "身份待核实" in listing and "scammer@evil.example" in listing


def test_an_agent_verifies_a_stranger_and_files_the_mail_into_that_buyers_conversation(listener, client):
    buyer = buyer_with_email("old@example.com", balance=50_00)
    buyer.phone = "13912345678"
    buyer.save()
    order = place_order(buyer=buyer, product=f.product(price=10_00, keys=1))
    send(
        listener,
        text_mail("换了新邮箱，退款到哪了？", "utf-8", subject=f"退款-{order.no}", sender="new@example.com"),
    )
    mail = InboundMail.objects.get()
    agent = f.staff(Role.AGENT)
    client.force_login(agent)

    refused = client.post(
        "/support/staff/mail/", {"mail": mail.pk, "action": "file", "who": "nobody"}, follow=True
    )
    assert "没有找到唯一的买家" in refused.content.decode()
    client.post("/support/staff/mail/", {"mail": mail.pk, "action": "file", "who": "13912345678"})

    mail.refresh_from_db()
    assert mail.state == InboundMail.State.FILED and mail.conversation.buyer == buyer
    assert mail.conversation.order == order and mail.reviewed_by == agent
    texts = [m.body for m in mail.conversation.messages.order_by("id")]
    assert any("换了新邮箱" in t for t in texts)
    assert any("已核实发件人 new@example.com" in t for t in texts)  # an internal note says who checked
    assert "换了新邮箱" in page(client, buyer, mail.conversation)


def test_the_same_mail_delivered_twice_is_filed_once(listener):
    buyer_with_email("twice@example.com")
    mail = text_mail("没收到卡密", "utf-8", subject="卡密", sender="twice@example.com")
    send(listener, mail)
    send(listener, mail)

    assert Message.objects.filter(author_kind="buyer").count() == 1
    states = sorted(InboundMail.objects.values_list("state", flat=True))
    assert states == [InboundMail.State.DUPLICATE, InboundMail.State.FILED]


def test_one_delivery_raced_by_many_files_once(on_postgres):
    buyer_with_email("race@example.com")
    raw = text_mail("没收到", "utf-8", subject="卡密", sender="race@example.com").as_bytes()
    results = at_once(6, lambda i: receive(raw=raw, source="smtp").state)
    assert sorted(v for _ok, v in results).count(InboundMail.State.FILED) == 1
    assert Message.objects.filter(author_kind="buyer").count() == 1 and InboundMail.objects.count() == 6


def test_a_flood_from_one_sender_is_kept_but_not_answered(listener):
    buyer = buyer_with_email("flood@example.com")
    for i in range(23):
        send(
            listener, text_mail(f"第 {i} 封：退款多久到账", "utf-8", subject="催", sender="flood@example.com")
        )

    assert InboundMail.objects.filter(state=InboundMail.State.FILED).count() == 23
    assert Message.objects.filter(author_kind="buyer", conversation__buyer=buyer).count() == 23
    assert InboundMail.objects.filter(throttled=True).count() == 3
    assert Message.objects.filter(author_kind="system").count() == 20  # the bot answered the first 20


def test_an_agent_reply_goes_out_by_email_and_the_answer_comes_back_to_the_same_conversation(
    listener, mail_out, client
):
    buyer = buyer_with_email("wang@example.com", balance=50_00)
    order = place_order(buyer=buyer, product=f.product(price=10_00, keys=1))
    first = text_mail(
        "卡密无效", "gbk", label="gb2312", subject=f"订单 {order.no} 转人工", sender="wang@example.com"
    )
    send(listener, first)
    conversation = Conversation.objects.get(buyer=buyer, order=order)
    assert conversation.state == ConversationState.QUEUED

    agent = f.staff(Role.AGENT, agent_no="8866")
    client.force_login(agent)
    assert (
        "公开回复也会发送到 wang@example.com"
        in client.get(f"/support/staff/c/{conversation.pk}/").content.decode()
    )
    reply = client.post(f"/support/staff/c/{conversation.pk}/", {"body": "已为您核实，今天补发。"})
    assert reply.status_code == 302
    assert tick()["mail_sent"] == 1 and outbound.send_due() == 0  # the tick sends the outbox, once
    [(rcpt, sent)] = mail_out
    row = OutboundMail.objects.get()
    assert rcpt == ["wang@example.com"] and sent["Message-ID"] == row.msgid
    assert sent["From"] == SUPPORT and sent["Reply-To"] == f"support+{row.reply_token}@kameng.local"
    assert sent["In-Reply-To"] == first["Message-ID"] and first["Message-ID"] in sent["References"]
    assert sent["Subject"].strip() == f"Re: 订单 {order.no} 转人工"
    assert "已为您核实，今天补发。" in sent.get_content() and "8866" in sent.get_content()

    answer = MIMEText("好的，谢谢", "plain", "utf-8")
    answer["From"], answer["Subject"] = "Wang <WANG@example.com>", sent["Subject"]
    answer["In-Reply-To"] = sent["Message-ID"]
    send(listener, answer, to=sent["Reply-To"])
    assert list(conversation.messages.filter(author_kind="buyer").values_list("body", flat=True))[
        -1
    ].endswith("好的，谢谢")
    assert Conversation.objects.filter(buyer=buyer).count() == 1
    assert "好的，谢谢" in page(client, buyer, conversation)

    by_reference = MIMEText("还有一个问题", "plain", "utf-8")
    by_reference["From"], by_reference["Subject"] = "wang@example.com", "再问"
    by_reference["References"] = sent["Message-ID"]
    send(listener, by_reference)
    assert conversation.messages.filter(body__contains="还有一个问题").exists()


def test_a_reply_token_used_from_another_address_is_checked_by_a_person_before_any_answer(listener, mail_out):
    buyer = buyer_with_email("owner@example.com")
    send(listener, text_mail("你好", "utf-8", subject="问题", sender="owner@example.com"))
    outbound.send_due()  # the bot's answer goes out by email
    [(_rcpt, sent)] = mail_out
    answers_before = Message.objects.filter(author_kind="system").count()

    forwarded = MIMEText("退款进度？", "plain", "utf-8")
    forwarded["From"], forwarded["Subject"] = "other@example.com", "Re: 问题"
    send(listener, forwarded, to=sent["Reply-To"])

    mail = InboundMail.objects.get(sender="other@example.com")
    assert mail.conversation.buyer == buyer and mail.needs_review
    assert Message.objects.filter(author_kind="system").count() == answers_before


@pytest.fixture
def dovecot():
    """A real IMAP server (ARCHITECTURE.md): dovecot with its own config in a temporary directory the
    unprivileged mail processes can read; stopped and removed afterwards."""
    binary = shutil.which("dovecot") or next((p for p in ["/usr/sbin/dovecot"] if Path(p).exists()), None)
    if binary is None:
        pytest.skip("IMAP test skipped: dovecot is missing (apt-get install -y dovecot-imapd)")
    port = free_port()
    base = Path(tempfile.mkdtemp(prefix="kameng-dovecot-"))
    base.chmod(0o755)
    (base / "mail" / "support").mkdir(parents=True)
    for path in [base / "mail", base / "mail" / "support"]:
        path.chmod(0o777)
    (base / "passwd").write_text(f"support:{{PLAIN}}secret:65534:65534::{base}/mail/support\n")
    conf = base / "dovecot.conf"
    conf.write_text(
        f"""protocols = imap
listen = 127.0.0.1
base_dir = {base}/run
state_dir = {base}/state
log_path = {base}/log
ssl = no
disable_plaintext_auth = no
mail_location = maildir:~/Maildir
default_internal_user = dovecot
default_login_user = dovenull
passdb {{
  driver = passwd-file
  args = {base}/passwd
}}
userdb {{
  driver = passwd-file
  args = {base}/passwd
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
}}
"""
    )
    subprocess.run([binary, "-c", str(conf)], check=True)
    for _ in range(50):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    yield f"imap://support:secret@127.0.0.1:{port}/INBOX"
    os.kill(int((base / "run" / "master.pid").read_text().strip()), signal.SIGTERM)
    time.sleep(0.5)
    shutil.rmtree(base, ignore_errors=True)


def test_imap_mail_is_fetched_once_however_often_the_mailbox_is_read(dovecot, client):
    from imapclient import IMAPClient

    from kameng.support.mail.imap import fetch_imap

    buyer = buyer_with_email("imap@example.com")
    port = int(dovecot.rsplit(":", 1)[1].split("/")[0])
    with IMAPClient("127.0.0.1", port=port, ssl=False) as box:
        box.login("support", "secret")
        for i, text in enumerate(["邮箱里的第一封", "邮箱里的第二封"]):
            mail = text_mail(text, "gbk", label="gb2312", subject=f"IMAP {i}", sender="imap@example.com")
            box.append("INBOX", mail.as_bytes())

    assert fetch_imap(dovecot) == 2
    assert fetch_imap(dovecot) == 0
    with IMAPClient("127.0.0.1", port=port, ssl=False) as box:  # someone marks them unread again
        box.login("support", "secret")
        box.select_folder("INBOX")
        box.remove_flags(box.search(["ALL"]), [b"\\Seen"])
    fetch_imap(dovecot)

    assert InboundMail.objects.filter(source="imap").count() == 2
    bodies = sorted(Message.objects.filter(author_kind="buyer").values_list("body", flat=True))
    assert len(bodies) == 2 and "邮箱里的第一封" in bodies[0]
    assert all(m.conversation.buyer == buyer for m in Message.objects.filter(author_kind="buyer"))


def test_an_auto_reply_is_kept_but_never_answered_so_two_robots_cannot_loop(listener):
    buyer_with_email("away@example.com")
    away = text_mail("我正在休假，退款进度请稍后。", "utf-8", subject="自动回复", sender="away@example.com")
    away["Auto-Submitted"] = "auto-replied"
    send(listener, away)

    assert Message.objects.filter(author_kind="buyer").count() == 1
    assert not Message.objects.filter(author_kind="system").exists() and not OutboundMail.objects.exists()


def test_fetch_mail_without_a_mailbox_says_what_to_set():
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="KAMENG_IMAP_URL"):
        call_command("fetch_mail", url="")


def test_a_mail_stored_before_a_crash_is_filed_by_the_next_tick():
    from kameng.support.mail.inbound import store_raw

    buyer = buyer_with_email("crash@example.com")
    raw = text_mail(
        "充值没到账", "gbk", label="gb2312", subject="充值", sender="crash@example.com"
    ).as_bytes()
    mail = store_raw(raw=raw, source="smtp")  # the listener stopped right after storing

    assert tick()["mail_refiled"] == 1 and tick()["mail_refiled"] == 0
    mail.refresh_from_db()
    assert mail.state == InboundMail.State.FILED and mail.message.conversation.buyer == buyer
    assert "充值没到账" in mail.message.body
