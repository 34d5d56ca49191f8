from collections import Counter

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from kameng.accounts.models import STAFF_ROLES
from kameng.accounts.permissions import is_staff_member, role_required
from kameng.inventory.selectors import available_keys, stock_by_batch

from .forms import KeyImportConfirmForm, KeyImportForm, ProductForm
from .hooks import refund_terms
from .models import GoodsKind, Product, Seller
from .selectors import listed_products, seller_of
from .services import CatalogError, confirm_card_keys, create_product, stage_card_keys, update_product

STOCK_COUNTS = ("on_sale", "sold", "revoked", "redeemed", "quarantined", "total")


def index(request):
    kind = request.GET.get("kind", "")
    products = listed_products()
    if kind in GoodsKind.values:
        products = products.filter(kind=kind)
    return render(
        request, "catalog/index.html", {"products": products, "kinds": GoodsKind.choices, "kind": kind}
    )


def product_detail(request, pk: int):
    return product_page(request, get_object_or_404(listed_products(), pk=pk))


def product_page(request, product: Product, *, errors: dict | None = None, values=None, status: int = 200):
    """The product page with its checkout form. A refused purchase (orders.views.buy) comes back
    here with `errors` by field name ("form" for the whole request) and what the buyer typed."""
    terms = refund_terms(product.kind)
    context = {
        "product": product,
        "terms": terms,
        "terms_shown": ",".join(t.ref for t in terms),
        "errors": errors or {},
        "values": values or {},
    }
    return render(request, "catalog/product.html", context, status=status)


def _my_seller(request) -> Seller:
    seller = seller_of(request.user)
    if seller is None:
        raise PermissionDenied
    return seller


@role_required("seller")
@require_http_methods(["GET", "POST"])
def seller_product_edit(request, pk: int | None = None):
    seller = _my_seller(request)
    product = get_object_or_404(Product, pk=pk, seller=seller) if pk else Product(seller=seller)
    form = ProductForm(request.POST or None, instance=product)
    if request.method == "POST" and form.is_valid():
        try:
            if pk:
                update_product(product_id=product.pk, seller=seller, **form.product_fields())
            else:
                create_product(seller=seller, **form.product_fields())
        except CatalogError as e:
            form.show_refusal(e)
        else:
            messages.success(request, _("商品已保存。"))
            return redirect("orders:seller_home")
    return render(request, "catalog/seller_product_form.html", {"form": form, "product": product})


@role_required("seller")
@require_http_methods(["GET", "POST"])
def seller_import_keys(request, pk: int):
    """Upload → masked preview. Nothing is imported here: the preview's confirm button does that."""
    seller = _my_seller(request)
    product = get_object_or_404(Product, pk=pk, seller=seller, kind=GoodsKind.CARD_KEY)
    form = KeyImportForm(request.POST or None, request.FILES or None)
    report = draft = refusal = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data.get("file")
        data = upload.read() if upload else form.cleaned_data["text"]
        try:
            report, draft = stage_card_keys(
                product=product, data=data, actor=request.user, has_header=form.cleaned_data["has_header"]
            )
        except CatalogError as e:
            refusal = str(e)
        else:
            refusal = None
        # A fresh form: the pasted keys are never sent back in the page, not even to their seller.
        form = KeyImportForm(initial={"has_header": form.cleaned_data["has_header"]})
    confirm = KeyImportConfirmForm(initial={"draft": draft}) if draft else None
    response = render(
        request,
        "catalog/seller_import.html",
        {
            "form": form,
            "product": product,
            "report": report,
            "refusal": refusal,
            "confirm": confirm,
            "stock": available_keys(product.pk),
        },
    )
    response["Cache-Control"] = "no-store"
    return response


@role_required("seller")
@require_POST
def seller_confirm_keys(request, pk: int):
    seller = _my_seller(request)
    product = get_object_or_404(Product, pk=pk, seller=seller, kind=GoodsKind.CARD_KEY)
    form = KeyImportConfirmForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("预览已过期或不存在，请重新上传。"))
        return redirect("catalog:seller_import_keys", pk=product.pk)
    try:
        report = confirm_card_keys(product=product, draft_id=form.cleaned_data["draft"], actor=request.user)
    except CatalogError as e:
        messages.error(request, str(e))
        return redirect("catalog:seller_import_keys", pk=product.pk)
    messages.success(
        request,
        _("已导入 %(n)d 条卡密（跳过空行 %(b)d 行）。") % {"n": report.added, "b": report.blank_lines},
    )
    return redirect("catalog:seller_inventory")


@role_required("seller", *STAFF_ROLES)
@require_safe
def seller_inventory(request):
    """Counts of card keys by product and batch; a seller sees its own products, staff see all."""
    products = (
        Product.objects.filter(kind=GoodsKind.CARD_KEY).select_related("seller").order_by("seller_id", "id")
    )
    if not is_staff_member(request.user):
        products = products.filter(seller=_my_seller(request))
    products = list(products)
    rows = stock_by_batch([p.pk for p in products])
    by_product = {p.pk: {"product": p, "batches": [], "totals": Counter()} for p in products}
    for row in rows:
        entry = by_product[row["product_id"]]
        entry["batches"].append(row)
        entry["totals"].update({k: row[k] for k in STOCK_COUNTS})
    return render(request, "catalog/seller_inventory.html", {"entries": list(by_product.values())})
