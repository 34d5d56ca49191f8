from django.db.models import Q

from .models import Notice, User

# `wants_mail` as a filter on users: an address, and mail chosen (or left at the buyer's default).
WANTS_MAIL = ~Q(email="") & (Q(email_notices=True) | Q(email_notices__isnull=True, is_staff=False))


def recent_notices(user, limit: int = 10) -> list[Notice]:
    return list(Notice.objects.filter(user=user)[:limit])


def notices_of(user):
    """The user's notices, newest first (the notice centre pages through them)."""
    return Notice.objects.filter(user=user).order_by("-created_at", "-id")


def unread_count(user) -> int:
    """How many of the user's notices are unread (one indexed count; 0 for an anonymous visitor)."""
    if not user.is_authenticated:
        return 0
    return Notice.objects.filter(user=user, read_at__isnull=True).count()


def wants_mail(user: User) -> bool:
    """Notices by email: what the user chose; by default on for a buyer (not staff) with an address."""
    if not user.email:
        return False
    if user.email_notices is None:
        return not user.is_staff
    return user.email_notices
