from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "kameng.orders"
    label = "orders"

    def ready(self):
        # The lower apps tell orders things through these; they never import orders.
        from kameng.inventory.signals import card_keys_added
        from kameng.payments.hooks import handle_order_payments

        from .receivers import deliver_waiting_orders_later
        from .services import apply_order_payment

        handle_order_payments(apply_order_payment)
        card_keys_added.connect(deliver_waiting_orders_later, dispatch_uid="orders.deliver_waiting_orders")
