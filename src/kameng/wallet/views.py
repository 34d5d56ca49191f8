from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils.translation import gettext_lazy

from kameng.accounts.selectors import recent_notices

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
