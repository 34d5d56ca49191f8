from collections.abc import Iterable
from typing import NamedTuple

from axes.utils import reset as reset_login_failures
from django.contrib.auth.models import Group
from django.db import transaction

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


def notify(user: User, text: Sentence, link: str = "") -> Notice:
    """Tell one user something (money credited, a case moved); it is shown on their pages, in the
    language they read them in. Part of the caller's transaction: a change rolled back takes its
    notice with it."""
    return Notice.objects.create(user=user, text=stored(text), link=link)


class Notification(NamedTuple):
    """One thing to tell one user, for `notify_many`."""

    user_id: int
    text: Sentence
    link: str = ""


def notify_many(notifications: Iterable[Notification]) -> list[Notice]:
    """Several notices, each to its user with its own text, written in one statement: for an action
    that collects what it has to tell while it works and writes it once, at its end (or the same
    reminder to everyone holding a queue). Part of the caller's transaction, like `notify`."""
    return Notice.objects.bulk_create(
        [Notice(user_id=n.user_id, text=stored(n.text), link=n.link) for n in notifications]
    )
