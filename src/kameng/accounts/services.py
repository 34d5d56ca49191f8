from collections.abc import Iterable
from datetime import timedelta
from typing import NamedTuple

from axes.utils import reset as reset_login_failures
from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from kameng.sentences import Sentence, stored

from .models import Notice, Role, User


def ensure_role_groups() -> None:
    for role in Role:
        Group.objects.get_or_create(name=role.value)


def grant_roles(*, user: User, roles) -> User:
    groups = [Group.objects.get_or_create(name=str(r))[0] for r in roles]
    user.groups.add(*groups)
    user._roles_cache = None
    return user


@transaction.atomic
def register_buyer(
    *, username: str, password: str, phone: str = "", email: str = "", display_name: str = ""
) -> User:
    user = User(username=username, phone=phone, email=email, display_name=display_name)
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    grant_roles(user=user, roles=[Role.BUYER])
    return user


@transaction.atomic
def create_staff(
    *, username: str, password: str, roles, agent_no: str | None = None, display_name: str = ""
) -> User:
    user = User(username=username, agent_no=agent_no or None, display_name=display_name, is_staff=True)
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    grant_roles(user=user, roles=roles)
    return user


def lift_login_lock(*, user: User) -> int:
    """Forget the wrong passwords typed for this account (after its owner proved it by a reset
    link): the lockout page offers the reset as the way back in. An address locked for guessing
    many usernames stays locked."""
    return reset_login_failures(username=user.get_username())


def mail_due(now=None):
    """When a notice written now may be mailed: at the end of the digest window, so that what one
    action (or a burst of them) tells a user goes out as one mail. Whether it is mailed at all is
    the user's choice, read when it is sent (`kameng.accounts.mail`): writing a notice costs no query."""
    seconds = getattr(settings, "NOTICE_MAIL_DIGEST_SECONDS", 60)
    return (now or timezone.now()) + timedelta(seconds=seconds)


def notify(user: User, text: Sentence, link: str = "") -> Notice:
    """Tell one user something (money credited, a case moved); it is shown on their pages, in the
    language they read them in, and mailed if they asked for that. Part of the caller's transaction:
    a change rolled back takes its notice (and its mail) with it."""
    return Notice.objects.create(user=user, text=stored(text), link=link, mail_due_at=mail_due())


class Notification(NamedTuple):
    """One thing to tell one user, for `notify_many`. A `key` makes it happen once: a reminder
    written again with the same key for the same user is not written twice."""

    user_id: int
    text: Sentence
    link: str = ""
    key: str = ""


def notify_many(notifications: Iterable[Notification]) -> list[Notice]:
    """Several notices, each to its user with its own text, written in one statement: for an action
    that collects what it has to tell while it works and writes it once, at its end (or the same
    reminder to everyone holding a queue). Part of the caller's transaction, like `notify`.
    Keyed notifications already written are skipped (the returned rows then carry no id)."""
    due = mail_due()
    rows = [
        Notice(user_id=n.user_id, text=stored(n.text), link=n.link, key=n.key, mail_due_at=due)
        for n in notifications
    ]
    return Notice.objects.bulk_create(rows, ignore_conflicts=any(n.key for n in rows))


@transaction.atomic
def mark_notice_read(*, user: User, notice_id: int) -> Notice | None:
    """Mark one of the user's notices read; someone else's (or a missing one) is None."""
    notice = Notice.objects.select_for_update().filter(pk=notice_id, user=user).first()
    if notice is not None and notice.read_at is None:
        notice.read_at = timezone.now()
        notice.save(update_fields=["read_at"])
    return notice


def mark_all_notices_read(*, user: User) -> int:
    """Mark every unread notice of the user read (one statement); returns how many."""
    return Notice.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())


@transaction.atomic
def set_notice_preferences(*, user: User, email_notices: bool, language: str) -> User:
    """The user's choice: notices by email or not, and in which language mail is written."""
    user = User.objects.select_for_update().get(pk=user.pk)
    user.email_notices = email_notices
    user.language = language
    user.full_clean(exclude=["password"])
    user.save(update_fields=["email_notices", "language"])
    return user
