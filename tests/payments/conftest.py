import pytest


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # Argon2 with production cost makes each factory buyer ~100 ms; these stories are not about hashing.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
