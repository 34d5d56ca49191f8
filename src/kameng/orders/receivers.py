"""What orders does when a lower app tells it something (connected in OrdersConfig.ready())."""

from .tasks import deliver_waiting_orders_task


def deliver_waiting_orders_later(sender, *, product_id: int, **kwargs) -> None:
    """inventory.signals.card_keys_added: keys came in; the paid orders waiting for them are
    delivered by a background task (each under its own order lock)."""
    deliver_waiting_orders_task.enqueue(product_id)
