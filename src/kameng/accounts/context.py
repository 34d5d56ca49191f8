from django.utils.functional import SimpleLazyObject

from .permissions import has_role, is_staff_member
from .selectors import unread_count


def roles(request):
    user = request.user
    return {
        "is_seller": has_role(user, "seller"),
        "is_staff_member": is_staff_member(user),
        # Counted only if the page shows it (the top nav), once per render.
        "unread_notices": SimpleLazyObject(lambda: unread_count(user)),
    }
