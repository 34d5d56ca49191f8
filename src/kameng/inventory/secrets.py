"""Card-key secrets: Fernet at rest, keyed HMAC fingerprints for duplicate detection. Never logged."""

import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings


@lru_cache(maxsize=1)
def _fernet() -> MultiFernet:
    # The first key encrypts; all keys decrypt, so a key can be rotated without re-importing stock.
    return MultiFernet(
        [Fernet(k.encode() if isinstance(k, str) else k) for k in settings.CARDKEY_FERNET_KEYS]
    )


def encrypt(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def decrypt(token: str) -> str:
    return _fernet().decrypt(token.encode()).decode()


def fingerprint(secret: str) -> str:
    key = hashlib.sha256(("fingerprint:" + settings.CARDKEY_FERNET_KEYS[0]).encode()).digest()
    return hmac.new(key, secret.strip().encode(), hashlib.sha256).hexdigest()


def mask(secret: str) -> str:
    if len(secret) <= 4:
        return "****"
    return secret[:2] + "*" * (len(secret) - 4) + secret[-2:]
