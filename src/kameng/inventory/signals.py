"""What inventory tells the apps above it, without importing them.

card_keys_added(sender=CardKey, product_id: int)
    Sent after the transaction that added fresh keys to a product's stock has committed (never for
    a rolled-back import). Receivers must not assume they are the only one, and must not raise:
    orders listens, to deliver the paid orders that were waiting for stock (OrdersConfig.ready()).
"""

from django.dispatch import Signal

card_keys_added = Signal()
