"""Objective cases are decided and paid inside the submit call, with no person involved."""

import pytest
from django.db import IntegrityError, transaction

from kameng.inventory.models import CardKey
from kameng.orders.models import Delivery, OrderStatus
from kameng.orders.services import (
    place_order,
    retry_delivery,
    reveal_card_keys,
)
from kameng.orders.supplier import supplier
from kameng.refunds.actions.filing import violates
from kameng.refunds.models import Stage
from kameng.refunds.services import RefundError, submit_refund
from kameng.wallet.services import buyer_balance, check_ledger
from tests import factories as f

from .helpers import pay_online

pytestmark = pytest.mark.django_db


def gateway_order(buyer, product, *, pays: int = 1, existing=None):
    order = existing or place_order(buyer=buyer, product=product, pay_method="gateway")
    for _ in range(pays):
        pay_online(order, buyer)
    return order


def test_undelivered_card_key_is_refunded_at_once_and_can_never_be_delivered():
    buyer, other = f.buyer(), f.buyer(balance=50_00)
    product = f.product(price=20_00, keys=1)
    order = place_order(buyer=buyer, product=product, pay_method="gateway")
    place_order(buyer=other, product=product)  # the last key goes to someone else before the money arrives
    order = gateway_order(buyer, product, existing=order)
    assert order.status == OrderStatus.PAID

    case = submit_refund(order=order, actor=buyer, reason="not_received", demand="full_refund")

    assert case.stage == Stage.REFUNDED
    assert case.decision_clause == "3@v1"
    assert buyer_balance(buyer) == 20_00
    f_product_restock(product)
    retry_delivery(order_id=order.pk)
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED
    assert not CardKey.objects.filter(order=order).exists()
    assert check_ledger() == []


def f_product_restock(product):
    from kameng.catalog.services import import_card_keys

    import_card_keys(product=product, data="RESTOCK-0001\nRESTOCK-0002", actor=None)


def test_never_revealed_key_is_revoked_and_refunded_to_balance():
    buyer = f.buyer(balance=50_00)
    order = place_order(buyer=buyer, product=f.product(price=30_00, keys=2))

    case = submit_refund(
        order=order,
        actor=buyer,
        reason="invalid_key",
        demand="full_refund",
        evidence=[_screenshot("redeem_error")],
    )

    assert case.stage == Stage.REFUNDED
    assert case.decision_clause == "4@v1"
    assert buyer_balance(buyer) == 50_00
    assert CardKey.objects.get(order=order).status == "revoked"
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED
    with pytest.raises(RefundError, match="已无可退款项"):
        submit_refund(order=order, actor=buyer, reason="not_received", demand="full_refund")
    with pytest.raises(Exception, match="没有可查看的卡密"):
        reveal_card_keys(order_id=order.pk, buyer=buyer)
    assert check_ledger() == []


def test_paid_twice_refunds_the_extra_payment_only():
    buyer = f.buyer()
    order = gateway_order(buyer, f.product(price=12_00, keys=3), pays=2)

    case = submit_refund(order=order, actor=buyer, reason="duplicate_payment", demand="full_refund")

    assert case.stage == Stage.REFUNDED
    assert case.amount_approved == 12_00
    assert buyer_balance(buyer) == 12_00
    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED  # the goods stay: only the extra money goes back


def test_failed_topup_is_refunded_and_a_late_success_cannot_deliver():
    buyer = f.buyer(balance=100_00)
    product = f.product(kind="direct_topup", price=60_00)
    order = place_order(buyer=buyer, product=product, target_account="fail-uid-1")

    # The system filed and paid the refund itself (issue 14, item 7): nothing is left to ask for.
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED
    assert buyer_balance(buyer) == 100_00
    with pytest.raises(RefundError, match="已无可退款项"):
        submit_refund(order=order, actor=buyer, reason="not_received", demand="full_refund")
    retry_delivery(order_id=order.pk)
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED


def _screenshot(item):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from kameng.refunds.services import EvidenceFile

    png = (
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
        b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
    )
    return EvidenceFile(item=item, file=SimpleUploadedFile("shot.png", png, content_type="image/png"))


def test_a_second_duplicate_payment_claim_is_refused_and_pays_nothing_more():
    buyer = f.buyer()
    order = gateway_order(buyer, f.product(price=12_00, keys=3), pays=2)
    submit_refund(order=order, actor=buyer, reason="duplicate_payment", demand="full_refund")
    assert buyer_balance(buyer) == 12_00

    with pytest.raises(RefundError, match="未查到该订单有未退回的重复付款"):
        submit_refund(order=order, actor=buyer, reason="duplicate_payment", demand="full_refund")

    assert buyer_balance(buyer) == 12_00
    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED


def test_a_duplicate_payment_claim_on_a_single_payment_is_refused():
    buyer = f.buyer(balance=50_00)
    order = place_order(buyer=buyer, product=f.product(price=30_00, keys=1))

    with pytest.raises(RefundError, match="仅查到 1 笔成功付款"):
        submit_refund(order=order, actor=buyer, reason="duplicate_payment", demand="full_refund")
    assert buyer_balance(buyer) == 20_00


def test_a_revoked_key_goes_back_on_sale_only_after_the_supplier_confirms_it_unused(admin_client):
    from kameng.catalog.services import import_card_keys
    from kameng.orders.aftersales import reverify_revoked_keys

    buyer = f.buyer(balance=100_00)
    product = f.product(price=30_00, keys=0)
    import_card_keys(product=product, data="GOOD-0001\nUSED-0002", actor=None)
    orders = [place_order(buyer=buyer, product=product) for _ in range(2)]
    for order in orders:
        submit_refund(order=order, actor=buyer, reason="other", demand="full_refund")  # never viewed: revoked
    revoked = list(CardKey.objects.filter(product=product, status="revoked").values_list("pk", flat=True))
    assert len(revoked) == 2

    response = admin_client.post(
        "/admin/inventory/cardkey/", {"action": "reverify", "_selected_action": [str(pk) for pk in revoked]}
    )

    assert response.status_code == 302
    assert set(CardKey.objects.filter(product=product).values_list("status", flat=True)) == {
        "available",
        "revoked",
    }
    back = CardKey.objects.get(product=product, status="available")
    assert back.order_id is None and back.viewed_at is None
    assert reverify_revoked_keys(key_ids=revoked, actor=None) == (0, 1)  # the used one stays revoked


def test_a_topup_the_supplier_failed_meanwhile_is_refunded_with_the_suppliers_answer_in_its_facts():
    buyer = f.buyer(balance=50_00)
    order = place_order(
        buyer=buyer,
        product=f.product(kind="direct_topup", price=50_00, of=f.seller()),
        target_account="unknown-uid-7",
    )
    assert order.status == OrderStatus.DELIVERING
    supplier.settle(Delivery.objects.get(order=order).supplier_ref, "failed")

    case = submit_refund(order=order, actor=buyer, reason="not_received", demand="full_refund")

    assert case.stage == Stage.REFUNDED
    # The facts say what the supplier answered when the system asked, not what it said before.
    assert (case.facts["delivery_status"], case.facts["supplier_result"]) == ("failed", "failed")
    assert Delivery.objects.get(order=order).status == "voided"  # and it can never be delivered now


def test_only_the_open_case_index_is_reported_as_an_open_case():
    buyer = f.buyer(balance=50_00)
    order = place_order(buyer=buyer, product=f.product(kind="custom_service", price=50_00, of=f.seller()))
    case = submit_refund(order=order, actor=buyer, reason="other", demand="full_refund", description="没做")
    case.pk = None
    with pytest.raises(IntegrityError) as clash, transaction.atomic():
        case.save(force_insert=True)  # a second open case for the same order

    assert violates(clash.value, "one_open_case_per_order")
    assert not violates(clash.value, "clause_one_current")


def test_a_case_refunded_at_once_was_filed_before_anything_happened_to_it():
    from kameng.evidence.models import Event
    from kameng.refunds.models import RefundCase

    buyer = f.buyer()
    product = f.product(price=20_00, keys=1)
    order = place_order(buyer=buyer, product=product, pay_method="gateway")
    place_order(buyer=f.buyer(balance=50_00), product=product)  # the last key goes elsewhere
    order = gateway_order(buyer, product, existing=order)

    case = submit_refund(order=order, actor=buyer, reason="not_received", demand="full_refund")

    stored = RefundCase.objects.get(pk=case.pk)
    events = list(Event.objects.filter(stream=case.stream).order_by("seq"))
    # What the buyer's timeline shows: filed first, then its steps; closed after it was filed.
    assert stored.created_at <= events[0].created_at <= stored.closed_at
    assert stored.created_at <= stored.closed_at <= stored.updated_at
    assert events[0].kind == "submitted" and stored.stage == Stage.REFUNDED
