"""Goods that are not card keys (SPEC §2): direct top-ups through the sandbox supplier, activations the
seller records, custom services the seller delivers and the buyer confirms."""

import pytest

from kameng.catalog.models import GoodsKind
from kameng.inventory.models import CardKey
from kameng.ops.tick import tick
from kameng.orders.models import DeliveryStatus, Order, OrderStatus, SupplierTopup
from kameng.orders.services import OrderError, place_order, retry_delivery
from kameng.orders.supplier import SandboxSupplier
from kameng.wallet.services import balance_of, buyer_balance, check_ledger, escrow_code
from tests import factories as f

pytestmark = pytest.mark.django_db


def _topup_order(account: str, **product_extra):
    buyer = f.buyer(balance=100_00)
    product = f.product(kind=GoodsKind.DIRECT_TOPUP, price=10_00, **product_extra)
    order = place_order(buyer=buyer, product=product, target_account=account)
    return buyer, Order.objects.select_related("delivery", "product").get(pk=order.pk)


def test_a_top_up_the_supplier_confirms_is_delivered_at_once():
    buyer, order = _topup_order("13800000000")

    assert order.status == OrderStatus.DELIVERED
    assert order.delivery.status == DeliveryStatus.DELIVERED
    assert SupplierTopup.objects.get(ref=order.delivery.supplier_ref).account == "13800000000"
    assert buyer_balance(buyer) == 90_00


def test_a_top_up_the_supplier_refuses_is_voided_and_its_money_goes_back_by_itself():
    buyer, order = _topup_order("game-fail-001")

    order.refresh_from_db()
    # The failure is refunded without the buyer asking (issue 14, item 7): never delivered now.
    assert order.status == OrderStatus.REFUNDED
    assert order.delivery.status == DeliveryStatus.VOIDED
    assert balance_of(escrow_code(order.pk)) == 0
    assert buyer_balance(buyer) == 100_00
    assert check_ledger() == []


def test_an_unknown_top_up_waits_then_succeeds_when_the_supplier_answers():
    _buyer, order = _topup_order("unknown-42")
    assert order.status == OrderStatus.DELIVERING
    assert order.delivery.status == DeliveryStatus.UNKNOWN

    assert retry_delivery(order_id=order.pk).status == OrderStatus.DELIVERING  # asked again: still unknown
    SandboxSupplier().settle(order.delivery.supplier_ref, "success")
    order = retry_delivery(order_id=order.pk)

    assert order.status == OrderStatus.DELIVERED
    order = Order.objects.select_related("delivery").get(pk=order.pk)
    assert order.delivery.status == DeliveryStatus.DELIVERED
    assert order.delivery.attempts == 3
    # One request to the supplier, asked about three times: never a second top-up.
    assert SupplierTopup.objects.filter(account="unknown-42").count() == 1


def test_an_unknown_top_up_the_supplier_finally_fails_is_refunded_and_never_revived():
    buyer, order = _topup_order("unknown-43")

    SandboxSupplier().settle(order.delivery.supplier_ref, "failed")
    order = retry_delivery(order_id=order.pk)

    assert order.status == OrderStatus.REFUNDED and buyer_balance(buyer) == 100_00
    # A late retry (the tick, a duplicate job) cannot revive a failed top-up.
    SandboxSupplier().settle(order.delivery.supplier_ref, "success")
    assert retry_delivery(order_id=order.pk).status == OrderStatus.REFUNDED


def test_rechecking_an_unknown_top_up_counts_it_out_of_stock_only_once():
    _buyer, order = _topup_order("unknown-44", stock=3)
    order.product.refresh_from_db()
    assert order.product.stock == 2

    for _ in range(4):  # the tick asks the supplier again every few minutes
        tick()
        retry_delivery(order_id=order.pk)

    order.product.refresh_from_db()
    assert order.product.stock == 2


def test_a_limited_top_up_cannot_be_sold_beyond_its_stock():
    buyer = f.buyer(balance=100_00)
    product = f.product(kind=GoodsKind.DIRECT_TOPUP, price=10_00, stock=1)
    place_order(buyer=buyer, product=product, target_account="13800000001")

    with pytest.raises(OrderError, match="库存不足"):
        place_order(buyer=buyer, product=product, target_account="13800000002")
    assert buyer_balance(buyer) == 90_00


def _activation_order():
    buyer = f.buyer(balance=50_00)
    product = f.product(kind=GoodsKind.ACTIVATION, price=20_00, duration_days=30)
    order = place_order(buyer=buyer, product=product, target_account="member@example.com")
    return buyer, product, order


def test_the_seller_records_an_activation_on_the_order_page(client):
    _buyer, product, order = _activation_order()
    assert order.status == OrderStatus.PAID
    client.force_login(product.seller.owner)

    response = client.post(f"/orders/{order.no}/seller/", {"action": "activate", "account": ""}, follow=True)

    assert response.status_code == 200
    assert "已记录激活" in response.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED
    assert order.delivery.activation_account == "member@example.com"
    assert order.delivery.activated_at is not None


def test_another_seller_cannot_record_an_activation():
    _buyer, _product, order = _activation_order()
    from django.test import Client

    other = Client()
    other.force_login(f.seller().owner)

    assert other.post(f"/orders/{order.no}/seller/", {"action": "activate"}).status_code == 404
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID


def _custom_order():
    buyer = f.buyer(balance=200_00)
    product = f.product(kind=GoodsKind.CUSTOM_SERVICE, price=80_00, promise="查重率低于15%")
    return buyer, product, place_order(buyer=buyer, product=product)


def test_a_custom_service_is_delivered_with_a_note_and_confirmed_by_the_buyer(client):
    buyer, product, order = _custom_order()
    assert order.status == OrderStatus.PAID
    client.force_login(product.seller.owner)

    empty = client.post(f"/orders/{order.no}/seller/", {"note": "   "}, follow=True)
    assert "请填写交付说明" in empty.content.decode()
    client.post(f"/orders/{order.no}/seller/", {"note": "报告已上传，查重率 8%"})

    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED
    assert order.delivery.note == "报告已上传，查重率 8%"
    client.force_login(buyer)
    response = client.post(f"/orders/{order.no}/confirm/", follow=True)
    assert "已确认收货" in response.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    assert order.delivery.buyer_confirmed_at is not None


def test_a_buyer_cannot_confirm_before_delivery(client):
    buyer, _product, order = _custom_order()
    client.force_login(buyer)

    response = client.post(f"/orders/{order.no}/confirm/", follow=True)

    assert "尚未交付" in response.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID


def test_another_seller_cannot_deliver_a_custom_service(client):
    _buyer, _product, order = _custom_order()
    client.force_login(f.seller().owner)

    assert client.post(f"/orders/{order.no}/seller/", {"note": "冒名交付"}).status_code == 404
    assert (
        client.post(
            f"/api/orders/{order.no}/deliver", {"note": "冒名交付"}, content_type="application/json"
        ).status_code
        == 404
    )
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert order.delivery.note == ""


def test_a_custom_service_deliverable_is_checked_by_content_and_only_its_parties_can_fetch_it(client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from kameng.orders.services import OrderError, deliver_custom_service, place_order

    buyer, shop = f.buyer(balance=100_00), f.seller()
    order = place_order(buyer=buyer, product=f.product(kind="custom_service", price=50_00, of=shop))
    fake = SimpleUploadedFile("report.pdf", b"MZ\x90\x00 this is an exe" * 10)
    with pytest.raises(OrderError, match="不支持"):  # an .exe renamed .pdf
        deliver_custom_service(order_id=order.pk, seller_user=shop.owner, note="见附件", file=fake)

    pdf = SimpleUploadedFile(
        "report.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    )
    deliver_custom_service(order_id=order.pk, seller_user=shop.owner, note="见附件", file=pdf)

    client.force_login(buyer)
    page = client.get(f"/orders/{order.no}/")
    assert "下载交付文件" in page.content.decode()
    got = client.get(f"/orders/{order.no}/delivery-file/")
    assert got.status_code == 200 and b"".join(got.streaming_content).startswith(b"%PDF")
    client.force_login(f.buyer())
    assert client.get(f"/orders/{order.no}/delivery-file/").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_a_restock_delivers_the_orders_that_waited_oldest_first_but_never_a_refunded_one(drain_tasks):
    from kameng.catalog.services import import_card_keys
    from kameng.orders.services import place_order
    from kameng.refunds.services import submit_refund
    from tests.refunds.helpers import pay_online

    product = f.product(price=10_00, keys=1)
    first, second, third = f.buyer(), f.buyer(), f.buyer()
    waiting = [place_order(buyer=b, product=product, pay_method="gateway") for b in (first, second, third)]
    place_order(buyer=f.buyer(balance=10_00), product=product)  # the last key goes elsewhere
    for order, buyer in zip(waiting, (first, second, third), strict=True):
        pay_online(order, buyer)  # paid, waiting for stock
    submit_refund(order=waiting[1], actor=second, reason="not_received", demand="full_refund")

    import_card_keys(product=product, data="NEW-0001\nNEW-0002\nNEW-0003", actor=product.seller.owner)
    drain_tasks()

    statuses = [o.__class__.objects.get(pk=o.pk).status for o in waiting]
    assert statuses == ["delivered", "refunded", "delivered"]
    assert CardKey.objects.filter(order=waiting[1]).count() == 0
