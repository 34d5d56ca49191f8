from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from kameng.accounts.permissions import role_required
from kameng.inventory.selectors import available_keys

from .forms import KeyImportForm, ProductForm
from .models import GoodsKind, Product, Seller
from .selectors import listed_products, seller_of
from .services import CatalogError, create_product, import_card_keys, update_product


def index(request):
    kind = request.GET.get("kind", "")
    products = listed_products()
    if kind in GoodsKind.values:
        products = products.filter(kind=kind)
    return render(
        request, "catalog/index.html", {"products": products, "kinds": GoodsKind.choices, "kind": kind}
    )


def product_detail(request, pk: int):
    product = get_object_or_404(listed_products(), pk=pk)
    return render(request, "catalog/product.html", {"product": product})


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
    seller = _my_seller(request)
    product = get_object_or_404(Product, pk=pk, seller=seller, kind=GoodsKind.CARD_KEY)
    form = KeyImportForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        data = (
            form.cleaned_data["file"].read() if form.cleaned_data.get("file") else form.cleaned_data["text"]
        )
        try:
            report = import_card_keys(product=product, data=data, actor=request.user)
        except CatalogError as e:
            form.add_error(None, str(e))
        else:
            if not report.problems:
                messages.success(
                    request,
                    _("已导入 %(n)d 条卡密（跳过空行 %(b)d 行）。")
                    % {"n": report.added, "b": report.blank_lines},
                )
                return redirect("orders:seller_home")
    return render(
        request,
        "catalog/seller_import.html",
        {"form": form, "product": product, "report": report, "stock": available_keys(product.pk)},
    )
