"""`manage.py check --deploy` refuses the development secrets and the sandbox: with the secrets the
session signing key, the card-key encryption key and the gateway's signing secret are public, and
with the sandbox on anyone can "pay" on its cashier and mint balance."""

import os

from django.conf import settings
from django.core.checks import Error, Tags, register

DEV_SECRET = "kameng-dev-only-secret-change-me-in-production-0123456789"
DEV_GATEWAY_SECRET = "sandbox-gateway-secret"


@register(Tags.security, deploy=True)
def production_secrets(app_configs, **kwargs):
    errors = []
    if settings.SECRET_KEY == DEV_SECRET:
        errors.append(
            Error("KAMENG_SECRET_KEY is not set: the development secret key is public.", id="kameng.E001")
        )
    if not os.environ.get("KAMENG_CARDKEY_KEY"):
        errors.append(
            Error(
                "KAMENG_CARDKEY_KEY is not set: card keys are encrypted with a key derived from the secret key.",
                id="kameng.E002",
            )
        )
    if settings.SANDBOX:
        errors.append(
            Error(
                "KAMENG_SANDBOX is on: anyone can pay on the sandbox cashier and mint balance.",
                id="kameng.E003",
            )
        )
    if settings.GATEWAY_SECRET == DEV_GATEWAY_SECRET:
        errors.append(
            Error(
                "KAMENG_GATEWAY_SECRET is not set: the default gateway signing secret is public.",
                id="kameng.E004",
            )
        )
    return errors
