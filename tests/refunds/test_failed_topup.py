"""Issue 14, item 7: a direct top-up the supplier reports failed is refunded by itself, without the
buyer filing (SPEC §4, clause 3), and the buyer is told; once, however often the failure arrives
and whoever else files at the same moment."""

import pytest
from django.db.models import Sum

from kameng.accounts.models import Notice
from kameng.orders.models import Delivery, OrderStatus
from kameng.orders.services import place_order, retry_delivery
from kameng.orders.supplier import supplier
from kameng.refunds.models import RefundCase, Stage
from kameng.refunds.services import RefundError, submit_refund
from kameng.wallet.models import Posting
from kameng.wallet.services import buyer_balance, check_ledger
from tests import factories as f

from .helpers import assert_invariants, at_once


def topup_order(buyer, account: str, price: int = 60_00):
    return place_order(
        buyer=buyer,
        product=f.product(kind="direct_topup", price=price, of=f.seller()),
        target_account=account,
    )


def refunded_to_buyer(order) -> int:
    """What went back to buyers from this order (every refund, however many cases)."""
    total = Posting.objects.filter(
        transaction__reference=order.no, transaction__kind="refund", account__code__startswith="buyer:"
    ).aggregate(t=Sum("amount"))["t"]
    return total or 0


@pytest.mark.django_db
def test_a_topup_that_fails_at_once_is_refunded_without_the_buyer_asking(client):
    buyer = f.buyer(balance=100_00)

    order = topup_order(buyer, "fail-uid-1")

    order.refresh_from_db()
    case = RefundCase.objects.get(order=order)
    assert case.stage == Stage.REFUNDED and case.channel == "system"
    assert case.decision_clause.startswith("3")
    assert buyer_balance(buyer) == 100_00
    assert order.status == OrderStatus.REFUNDED
    [notice] = [n for n in Notice.objects.filter(user=buyer) if "充值失败" in n.message]
    assert "系统已自动为您退款 ¥60.00" in notice.message
    client.force_login(buyer)
    page = client.get(f"/orders/{order.no}/").content.decode()
    assert "已退款" in page and 'id="request-refund"' not in page
    assert f'href="/refunds/{case.pk}/"' in page
    assert "系统代买家提交" in client.get(f"/refunds/{case.pk}/").content.decode()


@pytest.mark.django_db
def test_a_failure_reported_twice_is_refunded_once_and_the_buyer_cannot_file_again():
    buyer = f.buyer(balance=60_00)
    order = topup_order(buyer, "unknown-uid-2")
    assert order.status == OrderStatus.DELIVERING and buyer_balance(buyer) == 0
    supplier.settle(Delivery.objects.get(order=order).supplier_ref, "failed")

    retry_delivery(order_id=order.pk)
    retry_delivery(order_id=order.pk)

    assert RefundCase.objects.filter(order=order).count() == 1
    assert refunded_to_buyer(order) == 60_00 and buyer_balance(buyer) == 60_00
    with pytest.raises(RefundError):
        submit_refund(order=order, actor=buyer, reason="not_received", demand="full_refund")
    assert buyer_balance(buyer) == 60_00


@pytest.mark.django_db
def test_a_buyer_filing_while_the_top_up_is_unknown_gets_one_refund_through_their_own_case():
    buyer = f.buyer(balance=60_00)
    order = topup_order(buyer, "unknown-uid-3")
    supplier.settle(Delivery.objects.get(order=order).supplier_ref, "failed")

    case = submit_refund(order=order, actor=buyer, reason="not_received", demand="full_refund")
    retry_delivery(order_id=order.pk)

    assert case.stage == Stage.REFUNDED and case.channel == "web"
    assert RefundCase.objects.filter(order=order).count() == 1
    assert buyer_balance(buyer) == 60_00


@pytest.mark.django_db(transaction=True)
def test_the_failure_and_the_buyers_own_filing_at_the_same_moment_refund_once(on_postgres):
    buyers = [f.buyer(balance=40_00) for _ in range(4)]
    orders = [topup_order(b, f"unknown-uid-{i}", price=40_00) for i, b in enumerate(buyers)]
    for order in orders:
        supplier.settle(Delivery.objects.get(order=order).supplier_ref, "failed")

    def work(i: int):
        order = orders[i // 2]
        if i % 2:
            return retry_delivery(order_id=order.pk).status
        return submit_refund(order=order, actor=order.buyer, reason="not_received", demand="full_refund")

    results = at_once(2 * len(orders), work)

    unexpected = [v for outcome, v in results if outcome == "error" and not isinstance(v, RefundError)]
    assert unexpected == []
    for buyer, order in zip(buyers, orders, strict=True):
        assert refunded_to_buyer(order) == 40_00
        assert buyer_balance(buyer) == 40_00
        assert RefundCase.objects.filter(order=order, stage=Stage.REFUNDED).count() == 1
    assert check_ledger() == []
    assert_invariants()
