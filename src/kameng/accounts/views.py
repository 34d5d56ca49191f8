from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from .forms import RegisterForm
from .services import lift_login_lock, register_buyer


def safe_next(request) -> str:
    """The local page a person came from (`?next=`), or "" when it is missing or leaves the site."""
    url = request.POST.get("next") or request.GET.get("next") or ""
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return ""


@require_http_methods(["GET", "POST"])
def register(request):
    form = RegisterForm(request.POST or None)
    next_url = safe_next(request)
    if request.method == "POST" and form.is_valid():
        user = register_buyer(
            username=form.cleaned_data["username"],
            password=form.cleaned_data["password1"],
            phone=form.cleaned_data.get("phone", ""),
            email=form.cleaned_data.get("email", ""),
        )
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, _("注册成功，欢迎来到卡盟。"))
        return redirect(next_url or "catalog:index")
    return render(request, "accounts/register.html", {"form": form, "next": next_url})


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Django's own reset, plus: the new password also lifts a login lock on that account (the
    lockout page offers the reset as the way out)."""

    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")

    def form_valid(self, form):
        response = super().form_valid(form)
        lift_login_lock(user=form.user)
        return response


def csrf_failure(request, reason=""):
    return render(request, "403_csrf.html", status=403)
