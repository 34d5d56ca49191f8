from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from kameng.accounts.permissions import get_owned_or_404, is_staff_member, role_required
from kameng.catalog.hooks import refund_terms
from kameng.catalog.models import GoodsKind, Product
from kameng.catalog.selectors import listed_products, seller_of
from kameng.catalog.views import product_page
from kameng.evidence.models import Event
from kameng.inventory.models import CardKeyStatus
from kameng.inventory.selectors import available_keys
from kameng.payments.models import Payment, PaymentStatus
from kameng.payments.services import sync_payment
from kameng.safety import scam

from . import hooks
from .models import Order
from .selectors import orders_with_facts, with_money_left
from .services import (
    OrderError,
    cancel_order,
    confirm_received,
    deliver_custom_service,
    may_confirm,
    place_order,
    record_activation,
    reveal_card_keys,
    start_order_gateway_payment,
)


@login_required
def order_list(request):
    orders = Paginator(
        with_money_left(Order.objects.filter(buyer=request.user).select_related("product", "seller")), 20
    ).get_page(request.GET.get("page"))
    return render(request, "orders/list.html", {"orders": orders})


# The clause revealing a key ends (未查看卡密: returnable unopened within 7 days).
UNOPENED_KEY_CLAUSE = 4

# What the buyer reads in the order's record, instead of the event's code name.
EVENT_LABELS = {
    "order_placed": gettext_lazy("下单"),
    "order_paid": gettext_lazy("支付成功"),
    "duplicate_payment": gettext_lazy("收到重复付款"),
    "late_payment_credited": gettext_lazy("订单关闭后到账的付款已转入余额"),
    "stock_short": gettext_lazy("库存不足"),
    "delivery_waiting_stock": gettext_lazy("缺货，等待补货发货"),
    "topup_failed": gettext_lazy("充值失败"),
    "topup_unknown": gettext_lazy("充值结果未知，等待供应商答复"),
    "awaiting_activation": gettext_lazy("等待卖家开通"),
    "delivered": gettext_lazy("已发货"),
    "buyer_confirmed": gettext_lazy("买家确认收货"),
    "card_key_revealed": gettext_lazy("查看卡密"),
    "order_cancelled": gettext_lazy("订单已取消"),
    "order_expired": gettext_lazy("订单超时关闭"),
    "redelivery_started": gettext_lazy("重新发货"),
    "refunded_void": gettext_lazy("已退款，订单作废"),
    "replaced": gettext_lazy("已补发"),
}


@dataclass(frozen=True)
class PaymentLine:
    """A payment as the order page shows it: with what was already sent back through it."""

    payment: Payment
    refunded: int


def _order_context(order: Order) -> dict:
    payments = list(order.payments.all())
    # A payment the refund engine already sent back (e.g. the extra one of a double payment) is no
    # longer money the buyer can ask for: say so next to it, and stop offering to refund it.
    refunded = hooks.refunded_amounts(payments)
    lines = [PaymentLine(p, refunded.get(p.pk, 0)) for p in payments]
    still_held = [
        line
        for line in lines
        if line.payment.status == PaymentStatus.SUCCEEDED and line.refunded < line.payment.amount
    ]
    keys = list(order.card_keys.all())
    events = list(Event.objects.filter(stream=order.stream).order_by("seq"))
    for e in events:
        e.label = EVENT_LABELS.get(e.kind, e.kind)
    return {
        "order": order,
        "payments": lines,
        "duplicate": len(still_held) > 1,
        "can_confirm": order.kind == GoodsKind.CUSTOM_SERVICE and may_confirm(order),
        "keys": keys,
        "assigned_keys": [k for k in keys if k.status == CardKeyStatus.ASSIGNED],
        "delivery": getattr(order, "delivery", None),
        "events": events,
    }


@login_required
@require_safe
def order_detail(request, no: str):
    order = get_owned_or_404(orders_with_facts(), user=request.user, no=no)
    for payment in order.payments.all():
        if payment.status == PaymentStatus.CREATED:
            sync_payment(payment)  # the buyer came back from the cashier before the callback did
    order = orders_with_facts().get(pk=order.pk)
    context = _order_context(order)
    delivery = context["delivery"]
    # A seller's delivery note that reads like a scam (a deposit, a private WeChat) is not shown to
    # the buyer; they are told what the platform never asks for (SPEC §9). Sellers and staff see it.
    context["note_held"] = (
        bool(delivery and delivery.note) and scam.check(delivery.note, sender="seller").verdict == "hold"
    )
    if request.session.pop(_show_keys(order), False):
        # Just revealed (the POST redirected here): shown on this page only; a reload hides them.
        try:
            context["secrets"] = reveal_card_keys(order_id=order.pk, buyer=request.user)
        except OrderError as e:  # revoked meanwhile (a refund)
            messages.error(request, str(e))
    response = render(request, "orders/detail.html", context)
    if "secrets" in context:
        response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def buy(request, product_id: int):
    product = get_object_or_404(Product, pk=product_id)
    try:
        quantity = int(request.POST.get("quantity", "1"))
    except ValueError:
        quantity = 0
    try:
        order = place_order(
            buyer=request.user,
            product=product,
            quantity=quantity,
            pay_method=request.POST.get("pay_method", "balance"),
            target_account=request.POST.get("target_account", ""),
            accept_terms=request.POST.get("accept_terms") == "1",
            terms_shown=request.POST.get("terms_shown"),
        )
    except OrderError as e:
        listed = listed_products().filter(pk=product.pk).first()
        if listed is None:
            messages.error(request, str(e))
            return redirect("catalog:index")  # a delisted product's page is a 404: show the reason elsewhere
        # The checkout again, the reason next to the field it is about, what the buyer typed kept.
        return product_page(request, listed, errors={e.field or "form": str(e)}, values=request.POST)
    if order.pay_method == "gateway":
        return _to_cashier(request, order)
    messages.success(request, _("支付成功。"))
    return redirect("orders:detail", no=order.no)


def _to_cashier(request, order):
    try:
        _payment, url = start_order_gateway_payment(order=order, user=request.user)
    except OrderError as e:
        messages.error(request, str(e))
        return redirect("orders:detail", no=order.no)
    return redirect(url)


@login_required
@require_POST
def pay(request, no: str):
    order = get_object_or_404(Order, no=no, buyer=request.user)
    return _to_cashier(request, order)


@login_required
@require_http_methods(["GET", "POST"])
def reveal(request, no: str):
    """GET: ask first, since revealing ends the no-questions return of an unopened key (clause 4).
    POST: reveal, then back to the order page (post/redirect/get), which shows the keys once."""
    order = get_object_or_404(Order.objects.select_related("product"), no=no, buyer=request.user)
    if request.method == "GET":
        terms = refund_terms(order.kind)
        unopened = next((t for t in terms if t.number == UNOPENED_KEY_CLAUSE), None)
        return render(request, "orders/reveal_confirm.html", {"order": order, "unopened": unopened})
    try:
        reveal_card_keys(order_id=order.pk, buyer=request.user)
    except OrderError as e:
        messages.error(request, str(e))
        return redirect("orders:detail", no=no)
    request.session[_show_keys(order)] = True
    return redirect(reverse("orders:detail", args=[no]) + "#card-keys")


def _show_keys(order: Order) -> str:
    """The session flag that makes the next order page show the keys (only the next one)."""
    return f"show-keys:{order.no}"


@login_required
@require_POST
def cancel(request, no: str):
    order = get_object_or_404(Order, no=no, buyer=request.user)
    try:
        cancel_order(order_id=order.pk, buyer=request.user)
        messages.success(request, _("订单已取消。"))
    except OrderError as e:
        messages.error(request, str(e))
    return redirect("orders:detail", no=no)


@login_required
@require_POST
def confirm(request, no: str):
    order = get_object_or_404(Order, no=no, buyer=request.user)
    try:
        confirm_received(order_id=order.pk, buyer=request.user)
        messages.success(request, _("已确认收货。"))
    except OrderError as e:
        messages.error(request, str(e))
    return redirect("orders:detail", no=no)


# --- seller side --------------------------------------------------------------------------------


@role_required("seller")
def seller_home(request):
    """The seller's desk: their goods (with card-key stock) and the orders for them."""
    seller = seller_of(request.user)
    if seller is None:
        raise PermissionDenied
    products = Product.objects.filter(seller=seller).order_by("-id")
    orders = Paginator(
        with_money_left(Order.objects.filter(seller=seller).select_related("product", "buyer")), 30
    ).get_page(request.GET.get("page"))
    stock = {p.pk: available_keys(p.pk) for p in products if p.kind == GoodsKind.CARD_KEY}
    return render(
        request,
        "orders/seller_home.html",
        {"seller": seller, "products": products, "orders": orders, "stock": stock},
    )


@role_required("seller")
def seller_detail(request, no: str):
    order = get_object_or_404(orders_with_facts(), no=no, seller__owner=request.user)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "activate":
                record_activation(
                    order_id=order.pk, account=request.POST.get("account", ""), actor=request.user
                )
                messages.success(request, _("已记录激活。"))
            else:
                deliver_custom_service(
                    order_id=order.pk,
                    seller_user=request.user,
                    note=request.POST.get("note", ""),
                    file=request.FILES.get("file"),
                )
                messages.success(request, _("已交付。"))
        except OrderError as e:
            messages.error(request, str(e))
        return redirect("orders:seller_detail", no=no)
    return render(request, "orders/seller_detail.html", _order_context(order))


@login_required
def delivery_file(request, no: str):
    """The seller's deliverable: only the order's buyer, its seller and staff may fetch it."""
    order = Order.objects.select_related("seller", "delivery").filter(no=no).first()
    if order is None or not (
        order.buyer_id == request.user.pk
        or order.seller.owner_id == request.user.pk
        or is_staff_member(request.user)
    ):
        raise Http404
    delivery = getattr(order, "delivery", None)
    if delivery is None or not delivery.file:
        raise Http404
    try:
        handle = delivery.file.open("rb")
    except OSError:
        raise Http404 from None
    response = FileResponse(
        handle, as_attachment=True, filename=f"{order.no}-delivery", content_type="application/octet-stream"
    )
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
