from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "kameng.orders"
    label = "orders"

    def ready(self):
        # The lower apps tell orders things through these; they never import orders.
        from kameng.inventory.signals import card_keys_added

        from .receivers import deliver_waiting_orders_later

        card_keys_added.connect(deliver_waiting_orders_later, dispatch_uid="orders.deliver_waiting_orders")
