# Old home of the gateway adapter, now kameng.payments.gateway (the sandbox: kameng.payments.sandbox).
# Kept importable only for kameng.refunds.services and bench/seed.py, which this change may not edit.
# Delete once nothing imports this module.
from kameng.payments.gateway import GatewayError, get_gateway  # noqa: F401
