"""Numbers the shop hands out to people and to gateways: order numbers (订单号) and merchant trade
numbers (商户单号). It imports nothing from the apps, so every app may use it."""

import secrets

from django.utils import timezone


def new_no(prefix: str) -> str:
    """prefix + local time to the second + 8 random digits. A collision needs ~10^4 numbers in one
    second, and then the column's unique constraint refuses it rather than mixing two rows up."""
    return prefix + timezone.localtime().strftime("%Y%m%d%H%M%S") + f"{secrets.randbelow(10**8):08d}"
