from kameng.payments.models import PaymentStatus

from .models import Order


def orders_with_facts():
    return Order.objects.select_related("product", "seller", "delivery", "buyer").prefetch_related(
        "payments", "card_keys"
    )


def successful_payments(order: Order):
    return [p for p in order.payments.all() if p.status == PaymentStatus.SUCCEEDED]
