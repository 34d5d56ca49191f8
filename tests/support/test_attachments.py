"""Files in the chat (issue 15, item 1): images, voice notes, videos and files, checked by their bytes;
images re-encoded so that no script or metadata rides along; served only to the people of the
conversation; a refused file keeps the message unsent and the draft on the page."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from kameng.accounts.models import Role
from kameng.support import attachments, services
from kameng.support.models import Message, MessageAttachment
from tests import factories as f

pytestmark = pytest.mark.django_db


def upload(name: str, data: bytes, content_type: str = "application/octet-stream"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def jpeg_with_secrets() -> bytes:
    """A photo whose EXIF says where it was taken, with a script appended after the image data."""
    exif = Image.Exif()
    exif[0x010E] = "家里的地址：北京市朝阳区某小区"  # ImageDescription
    exif[0x8825] = {2: (39.0, 54.0, 27.0), 1: "N"}  # GPSInfo: latitude
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 120, 200)).save(out, format="JPEG", exif=exif)
    return out.getvalue() + b"<script>alert(document.cookie)</script>"


def ogg_voice() -> bytes:
    # The first page of an Ogg Opus stream: enough for the content check, which reads the header.
    return b"OggS\x00\x02" + b"\x00" * 20 + b"\x01\x13OpusHead\x01\x01" + b"\x00" * 200


@pytest.fixture
def chat(client):
    buyer = f.buyer("小明")
    conversation = services.conversation_for(buyer=buyer)
    client.force_login(buyer)
    return buyer, conversation


def test_a_photo_is_stored_as_pixels_only(client, chat):
    _buyer, conversation = chat
    original = jpeg_with_secrets()
    response = client.post(
        f"/support/c/{conversation.pk}/",
        {"body": "这是付款截图", "client_id": "c-1", "files": [upload("截图.jpg", original, "image/jpeg")]},
    )
    assert response.status_code == 302
    stored = MessageAttachment.objects.get(message__conversation=conversation)
    data = stored.file.read()
    assert stored.kind == "image" and stored.original_name == "截图.jpg"
    assert b"<script>" not in data and "朝阳区".encode() not in data and b"Exif" not in data
    with Image.open(io.BytesIO(data)) as image:
        assert image.size == (40, 30)
        assert not image.getexif()
    assert stored.original_sha256 != stored.sha256  # the digest of what the buyer sent is kept too

    page = client.get(f"/support/c/{conversation.pk}/").content.decode()
    assert f'src="/support/a/{stored.pk}/"' in page
    served = client.get(f"/support/a/{stored.pk}/")
    assert served.status_code == 200 and served["Content-Type"] == "image/jpeg"
    assert b"".join(served.streaming_content) == data


def test_only_the_people_of_the_conversation_get_the_file(client, chat):
    buyer, conversation = chat
    message = services.post_message(
        conversation_id=conversation.pk,
        author=buyer,
        body="",
        attachments=attachments.check_all([("付款.png", f.image_bytes())]),
    )
    file_id = message.attachments.get().pk
    client.force_login(f.buyer("别人"))
    assert client.get(f"/support/a/{file_id}/").status_code == 404
    client.force_login(f.staff(Role.FINANCE))  # finance does not sit in the chat
    assert client.get(f"/support/a/{file_id}/").status_code == 404
    client.force_login(f.staff(Role.AGENT))
    assert client.get(f"/support/a/{file_id}/").status_code == 200
    client.logout()
    assert client.get(f"/support/a/{file_id}/").status_code == 302  # to log in


def test_a_file_on_an_internal_note_never_reaches_the_buyer(client, chat):
    _buyer, conversation = chat
    agent = f.staff(Role.AGENT)
    note = services.post_message(
        conversation_id=conversation.pk,
        author=agent,
        body="内部：卖家后台截图",
        internal=True,
        attachments=attachments.check_all([("后台.png", f.image_bytes())]),
    )
    file_id = note.attachments.get().pk
    assert client.get(f"/support/a/{file_id}/").status_code == 404
    assert "后台.png" not in client.get(f"/support/c/{conversation.pk}/").content.decode()
    assert all(
        m["attachments"] == []
        for m in client.get(f"/support/c/{conversation.pk}/messages/").json()["messages"]
    )


def test_a_disguised_file_is_refused_and_the_draft_is_kept(client, chat):
    _buyer, conversation = chat
    response = client.post(
        f"/support/c/{conversation.pk}/",
        {
            "body": "请看附件",
            "client_id": "c-2",
            "files": [upload("photo.jpg", b"<html><script>alert(1)</script></html>", "image/jpeg")],
        },
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "photo.jpg" in page and "按内容识别" in page
    assert "请看附件" in page  # the draft stays in the box
    assert not Message.objects.filter(conversation=conversation, author_kind="buyer").exists()


def test_an_image_claiming_a_huge_canvas_is_refused_before_decoding(client, chat):
    _buyer, conversation = chat
    out = io.BytesIO()
    Image.new("1", (9000, 5000)).save(out, format="PNG")  # 45 million pixels in a few kilobytes
    response = client.post(
        f"/support/c/{conversation.pk}/",
        {"body": "", "files": [upload("big.png", out.getvalue(), "image/png")]},
    )
    assert "9000×5000" in response.content.decode()
    assert not MessageAttachment.objects.exists()


def test_six_files_are_one_too_many(client, chat):
    _buyer, conversation = chat
    files = [upload(f"{i}.png", f.image_bytes(), "image/png") for i in range(6)]
    response = client.post(f"/support/c/{conversation.pk}/", {"body": "六张图", "files": files})
    assert "最多附带 5 个文件" in response.content.decode()
    assert not Message.objects.filter(conversation=conversation, author_kind="buyer").exists()


def test_a_voice_note_plays_in_the_transcript(client, chat):
    _buyer, conversation = chat
    client.post(f"/support/c/{conversation.pk}/", {"body": "", "files": [upload("voice-1.ogg", ogg_voice())]})
    stored = MessageAttachment.objects.get()
    assert stored.kind == "voice" and stored.content_type == "audio/ogg"
    assert (
        f'<audio controls preload="none" src="/support/a/{stored.pk}/"'
        in client.get(f"/support/c/{conversation.pk}/").content.decode()
    )
    # A message of files alone is not a question for the self-service answers.
    assert not Message.objects.filter(conversation=conversation, author_kind="system").exists()


def test_the_api_takes_files_once_per_client_id(client, chat):
    _buyer, conversation = chat
    url = f"/api/support/conversations/{conversation.pk}/files"

    def send():
        return client.post(
            url,
            {
                "body": "截图",
                "client_id": "retry-1",
                "files": [upload("a.png", f.image_bytes(), "image/png")],
            },
        )

    first, again = send(), send()
    assert first.status_code == 201 and again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert MessageAttachment.objects.count() == 1
    (att,) = first.json()["attachments"]
    assert att["kind"] == "image" and att["url"] == f"/support/a/{att['id']}/" and att["refused"] == ""
    listed = client.get(f"/api/support/conversations/{conversation.pk}/messages").json()
    (sent,) = [m for m in listed if m["id"] == first.json()["id"]]
    assert sent["attachments"][0]["name"] == "a.png"

    refused = client.post(url, {"body": "", "files": [upload("x.exe", b"MZ\x90\x00" + b"\x00" * 100)]})
    assert refused.status_code == 400 and "x.exe" in refused.json()["detail"]
    assert client.post(url, {"body": "没有文件"}).status_code == 400


def test_a_refused_file_of_a_mail_is_kept_as_a_trace(chat):
    buyer, conversation = chat
    message = services.post_message(conversation_id=conversation.pk, author=buyer, body="邮件正文")
    with pytest.raises(attachments.AttachmentError) as refused:
        attachments.attach(message=message, name="../../发票.pdf", data=b"<html>not a pdf</html>")
    trace = attachments.note_refused(message=message, name="../../发票.pdf", reason=str(refused.value))
    kept = attachments.attach(
        message=message, name="C:\\docs\\发票2.pdf", data=b"%PDF-1.4\n%\xe2\xe3\n1 0 obj\n"
    )
    assert trace.original_name == "发票.pdf" and not trace.file and "发票.pdf" in trace.refused
    assert (
        kept.original_name == "发票2.pdf" and kept.kind == "file" and kept.content_type == "application/pdf"
    )
