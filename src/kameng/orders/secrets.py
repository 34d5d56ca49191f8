# Old home of the card-key vault, kept importable for orders/aftersales.py (owned by the refund-core
# rewrite): import kameng.inventory.secrets instead. Delete once nothing imports this module.
from kameng.inventory.secrets import decrypt, encrypt, fingerprint, mask  # noqa: F401
