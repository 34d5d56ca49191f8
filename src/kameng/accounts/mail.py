"""Notices by email (issue 15, item 9): the notice rows are the outbox.

A notice is written with `mail_due_at` at the end of the digest window (`services.mail_due`); the
tick (`enqueue_due_mail`) hands each user with due mail to a task; the task (`send_notice_mail`)
locks that user's unsent notices, sends them as one mail through Django's email backend and marks
them sent in the same transaction. A mail that fails is retried with backoff; a process that dies
after sending and before committing sends again on the next try (at least once); a notice marked
sent is never sent again (two tasks for one user wait on the same row locks, and the second finds
nothing left). Whether a user gets mail is read when it is sent: notices of someone who does not
want mail simply leave the outbox.
"""

import logging
import smtplib
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.message import make_msgid
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_tasks import task

from .models import Notice, User
from .selectors import WANTS_MAIL, wants_mail

log = logging.getLogger(__name__)

BATCH = 200  # users per tick
PER_MAIL = 50  # notices per mail; more wait for the next one
LEASE = timedelta(minutes=2)  # a user handed to a task is not handed again before this
MAX_ATTEMPTS = 8


def backoff(attempts: int) -> timedelta:
    return timedelta(minutes=min(2**attempts, 60))


def enqueue_due_mail(now=None) -> int:
    """Hand every user with notice mail due to a task; returns how many users."""
    now = now or timezone.now()
    due = Notice.objects.filter(mailed_at__isnull=True, mail_due_at__lte=now)
    # Notices of people who get no mail leave the outbox here, without a task each.
    due.exclude(user__in=User.objects.filter(WANTS_MAIL, is_active=True)).update(mail_due_at=None)
    with transaction.atomic():
        user_ids = list(due.order_by().values_list("user_id", flat=True).distinct()[:BATCH])
        Notice.objects.filter(user_id__in=user_ids, mailed_at__isnull=True, mail_due_at__isnull=False).update(
            mail_due_at=now + LEASE
        )
    for user_id in user_ids:
        send_notice_mail_task.enqueue(user_id)
    return len(user_ids)


def site_url(link: str) -> str:
    return settings.SITE_URL.rstrip("/") + link if link.startswith("/") else link


def compose(user: User, notices: list[Notice]) -> EmailMessage:
    """One mail for the user's notices, in the user's language (Chinese unless they chose another)."""
    with translation.override(user.language or settings.LANGUAGE_CODE):
        if len(notices) == 1:
            subject = _("卡盟通知：%(text)s") % {"text": notices[0].message[:60]}
        else:
            subject = _("卡盟：您有 %(n)d 条新通知") % {"n": len(notices)}
        lines = [_("%(name)s，您好：") % {"name": user}, ""]
        for notice in notices:
            when = timezone.localtime(notice.created_at).strftime("%Y-%m-%d %H:%M")
            lines.append(f"{when}  {notice.message}")
            if notice.link:
                lines.append(f"    {site_url(notice.link)}")
        lines += [
            "",
            _("全部通知：%(url)s") % {"url": site_url("/notices/")},
            _("不想再收到邮件？在通知中心关闭“通过邮件接收通知”。"),
            _("平台不会向您索要密码、短信验证码，也不会要求屏幕共享或收取任何费用。"),
        ]
    ids = ",".join(str(n.pk) for n in notices)
    return EmailMessage(
        subject=subject.replace("\n", " "),
        body="\n".join(lines),
        to=[user.email],
        # Receivers (and people) can tell a resent mail by the notices it carries.
        headers={"Message-ID": make_msgid(f"notices-{notices[0].pk}"), "X-Kameng-Notices": ids},
    )


@transaction.atomic
def send_notice_mail(*, user_id: int, now=None) -> int:
    """Send the user's unsent notices as one mail; returns how many notices it carried."""
    now = now or timezone.now()
    user = User.objects.filter(pk=user_id).first()
    pending = Notice.objects.filter(user_id=user_id, mailed_at__isnull=True, mail_due_at__isnull=False)
    if user is None or not user.is_active or not wants_mail(user):
        pending.update(mail_due_at=None)  # nothing to send: out of the outbox
        return 0
    notices = list(pending.select_for_update().order_by("created_at", "id")[:PER_MAIL])
    if not notices:
        return 0  # another task sent them
    ids = [n.pk for n in notices]
    try:
        compose(user, notices).send()
    except (OSError, smtplib.SMTPException) as e:
        attempts = max(n.mail_attempts for n in notices) + 1
        log.warning("notice mail to user %s failed (attempt %s): %s", user_id, attempts, e)
        Notice.objects.filter(pk__in=ids).update(
            mail_attempts=F("mail_attempts") + 1,
            mail_due_at=None if attempts >= MAX_ATTEMPTS else now + backoff(attempts),
        )
        return 0
    Notice.objects.filter(pk__in=ids).update(mailed_at=now)
    return len(notices)


@task()
def send_notice_mail_task(user_id: int) -> int:
    return send_notice_mail(user_id=user_id)
