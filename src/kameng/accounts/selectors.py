from .models import Notice


def recent_notices(user, limit: int = 10) -> list[Notice]:
    """What the system told the user lately, newest first."""
    return list(Notice.objects.filter(user=user)[:limit])
