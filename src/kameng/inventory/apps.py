from django.apps import AppConfig


class InventoryConfig(AppConfig):
    """Card keys: encrypted stock, import, taking keys for an order, revealing them to the buyer.

    It sits below catalog and orders and imports neither: a key's product and order are foreign
    keys by name, and the callers pass the rows in. When keys are added it says so with the
    `card_keys_added` signal (inventory.signals), which orders listens to.
    """

    name = "kameng.inventory"
    label = "inventory"
