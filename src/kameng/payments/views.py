from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .gateway import get_gateway
from .models import Payment, PaymentStatus, SandboxTrade
from .services import PaymentError, receive_callback, start_topup, sync_payment

# --- wallet top-up (the form is on the wallet page) ------------------------------------------------


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
        messages.error(request, _("请输入正确的金额，例如 50 或 49.90。"), extra_tags="field:amount")
        return redirect("wallet:home")
    try:
        _payment, url = start_topup(user=request.user, amount=amount)
    except PaymentError as e:
        messages.error(request, str(e), extra_tags="field:amount")
        return redirect("wallet:home")
    return redirect(url)


# --- sandbox gateway: its cashier page and our notify endpoint ------------------------------------


@login_required
def sandbox_cashier(request, out_trade_no: str):
    try:
        sandbox = get_gateway("sandbox")
    except KeyError:
        raise Http404 from None
    payment = get_object_or_404(Payment, out_trade_no=out_trade_no, user=request.user)
    trade = get_object_or_404(SandboxTrade, out_trade_no=out_trade_no)
    if request.method == "POST":
        outcome = request.POST.get("outcome", "pay")
        if trade.status == SandboxTrade.Status.WAITING:
            sandbox.pay(out_trade_no, succeed=outcome != "fail")
        payment = Payment.objects.get(pk=payment.pk)
        sync_payment(payment)
        payment.refresh_from_db()
        if payment.status == PaymentStatus.FAILED:
            messages.error(request, _("支付未成功，没有扣款。您可以重新发起支付。"))
        # Back where the buyer came from, as a real cashier returns to the merchant's return URL.
        if payment.order_id:
            return redirect("orders:detail", no=payment.order.no)
        return redirect("wallet:home")
    return render(request, "payments/sandbox_cashier.html", {"payment": payment, "trade": trade})


@csrf_exempt
@require_POST
def gateway_notify(request, gateway: str):
    """Gateways post here. The answer is what gateways expect: "success" stops their retries."""
    try:
        get_gateway(gateway)
    except KeyError:
        raise Http404 from None
    result = receive_callback(
        gateway_name=gateway, body=request.body, signature=request.headers.get("X-Signature", "")
    )
    if result.ok:
        return HttpResponse("success", content_type="text/plain")
    return HttpResponse("fail: " + result.message, status=400, content_type="text/plain")
