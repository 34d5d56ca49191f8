"""Role and ownership checks that every view, API endpoint and service uses."""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404

from .models import Role


def has_role(user, *roles: str) -> bool:
    return bool(user and user.is_authenticated and user.has_role(*roles))


def require_role(user, *roles: str) -> None:
    if not has_role(user, *roles):
        raise PermissionDenied


def role_required(*roles: str) -> Callable:
    """View decorator: anonymous users go to login, users without any of `roles` get 403."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            require_role(request.user, *roles)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def is_staff_member(user) -> bool:
    return has_role(user, Role.AGENT, Role.SUPERVISOR, Role.FINANCE, Role.ADMIN)


def get_owned_or_404(queryset, *, user, owner_field: str = "buyer", staff_ok: bool = True, **lookup):
    """Fetch one object the user owns. Someone else's object answers 404, not 403, so ids leak nothing."""
    obj = queryset.filter(**lookup).first()
    if obj is None:
        raise Http404
    if staff_ok and is_staff_member(user):
        return obj
    owner = obj
    for part in owner_field.split("__"):
        owner = getattr(owner, part)
    if owner != user and getattr(owner, "pk", None) != user.pk:
        raise Http404
    return obj
