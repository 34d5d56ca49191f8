from django.contrib.auth.models import Group
from django.db import transaction

from .models import Role, User


def ensure_role_groups() -> None:
    for role in Role:
        Group.objects.get_or_create(name=role.value)


def grant_roles(*, user: User, roles) -> User:
    groups = [Group.objects.get_or_create(name=str(r))[0] for r in roles]
    user.groups.add(*groups)
    user._roles_cache = None
    return user


@transaction.atomic
def register_buyer(*, username: str, password: str, phone: str = "", display_name: str = "") -> User:
    user = User(username=username, phone=phone, display_name=display_name)
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
