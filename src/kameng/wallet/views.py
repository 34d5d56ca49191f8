from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kameng.accounts.selectors import recent_notices
from kameng.orders.services import OrderError, start_topup

from .selectors import buyer_history
from .services import buyer_balance

KIND_LABELS = {
    "topup": gettext_lazy("余额充值"),
    "order_payment": gettext_lazy("订单支付"),
    "refund": gettext_lazy("退款"),
    "late_payment": gettext_lazy("订单关闭后到账"),
    "duplicate_payment": gettext_lazy("重复支付"),
}


@login_required
def home(request):
    history = [
        {
            "at": p.transaction.created_at,
            "amount": p.amount,
            "kind": KIND_LABELS.get(p.transaction.kind, p.transaction.kind),
            "reference": p.transaction.reference,
            "memo": p.transaction.memo,
        }
        for p in buyer_history(request.user)
    ]
    notices = recent_notices(request.user)
    return render(
        request,
        "wallet/home.html",
        {"balance": buyer_balance(request.user), "history": history, "notices": notices},
    )


def _cents(typed: str) -> int | None:
    """元 as typed ("50", "49.90") in 分; None for anything that is not a finite amount to the 分
    (NaN, Infinity, 1e999999999 and "49.999" would otherwise crash or be silently rounded)."""
    try:
        value = Decimal(typed)
    except InvalidOperation:
        return None
    if not value.is_finite() or value.adjusted() > 30:
        return None
    cents = value * 100
    if cents != cents.to_integral_value():
        return None
    return int(cents)


@login_required
@require_POST
def topup(request):
    amount = _cents(request.POST.get("amount", ""))
    if amount is None:
        messages.error(request, _("请输入正确的金额，例如 50 或 49.90。"))
        return redirect("wallet:home")
    try:
        _payment, url = start_topup(user=request.user, amount=amount)
    except OrderError as e:
        messages.error(request, str(e))
        return redirect("wallet:home")
    return redirect(url)
