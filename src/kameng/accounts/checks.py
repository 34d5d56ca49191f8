"""`manage.py check --deploy` refuses the development secrets: with them the session signing key
and the card-key encryption key are public."""

from django.conf import settings
from django.core.checks import Error, Tags, register

DEV_SECRET = "kameng-dev-only-secret-change-me-in-production-0123456789"


@register(Tags.security, deploy=True)
def production_secrets(app_configs, **kwargs):
    errors = []
    if settings.SECRET_KEY == DEV_SECRET:
        errors.append(
            Error("KAMENG_SECRET_KEY is not set: the development secret key is public.", id="kameng.E001")
        )
    import os

    if not os.environ.get("KAMENG_CARDKEY_KEY"):
        errors.append(
            Error(
                "KAMENG_CARDKEY_KEY is not set: card keys are encrypted with a key derived from the secret key.",
                id="kameng.E002",
            )
        )
    return errors
