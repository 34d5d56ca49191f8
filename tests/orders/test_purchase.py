import pytest

from kameng.inventory.models import CardKey
from kameng.orders.models import OrderStatus
from kameng.orders.services import OrderError, place_order, reveal_card_keys
from kameng.wallet.services import buyer_balance, check_ledger
from tests import factories as f

pytestmark = pytest.mark.django_db(transaction=False)


def test_buyer_tops_up_buys_a_card_key_and_reveals_it():
    buyer = f.buyer(balance=100_00)
    product = f.product(price=30_00, keys=3)

    order = place_order(buyer=buyer, product=product)

    assert order.status == OrderStatus.DELIVERED
    assert buyer_balance(buyer) == 70_00
    key = CardKey.objects.get(order=order)
    assert key.viewed_at is None
    secrets = reveal_card_keys(order_id=order.pk, buyer=buyer)
    assert secrets[0].secret.startswith(f"KEY-{product.pk}-")
    assert secrets[0].card_no == ""
    key.refresh_from_db()
    assert key.viewed_at is not None
    assert check_ledger() == []


def test_buying_without_enough_balance_is_refused_and_takes_nothing():
    buyer = f.buyer(balance=10_00)
    product = f.product(price=30_00, keys=1)

    with pytest.raises(OrderError, match="余额不足"):
        place_order(buyer=buyer, product=product)

    assert buyer_balance(buyer) == 10_00
    assert CardKey.objects.filter(product=product, status="available").count() == 1


def test_another_buyer_cannot_reveal_my_key():
    owner, stranger = f.buyer(balance=50_00), f.buyer()
    order = place_order(buyer=owner, product=f.product(price=10_00, keys=1))

    with pytest.raises(OrderError):
        reveal_card_keys(order_id=order.pk, buyer=stranger)
    assert CardKey.objects.get(order=order).viewed_at is None
