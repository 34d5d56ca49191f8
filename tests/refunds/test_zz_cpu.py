import resource, time
import pytest
from kameng.refunds.services import submit_refund
from kameng.orders.services import place_order
from tests import factories as f
from tests.refunds.helpers import pay_online

def undelivered_order(buyer):
    product = f.product(price=30_00, keys=1)
    order = place_order(buyer=buyer, product=product, pay_method="gateway")
    place_order(buyer=f.buyer(balance=50_00), product=product)
    pay_online(order, buyer)
    order.refresh_from_db()
    return order

def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime

@pytest.mark.django_db
def test_cpu():
    buyer = f.buyer()
    orders = [undelivered_order(buyer) for _ in range(41)]
    submit_refund(order=orders[0], actor=buyer, reason="not_received", demand="full_refund")
    c, t = cpu(), time.perf_counter()
    for o in orders[1:]:
        submit_refund(order=o, actor=buyer, reason="not_received", demand="full_refund")
    print("\nRESULT cpu ms/refund %.2f wall ms/refund %.2f" % ((cpu() - c) / 40 * 1000, (time.perf_counter() - t) / 40 * 1000))
