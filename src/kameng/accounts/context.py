from .permissions import has_role, is_staff_member


def roles(request):
    user = request.user
    return {
        "is_seller": has_role(user, "seller"),
        "is_staff_member": is_staff_member(user),
    }
