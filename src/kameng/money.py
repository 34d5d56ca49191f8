"""Money as the shop writes it. Amounts are integer 分 everywhere; this is the one place that turns
them into yuan text. It imports nothing from the apps, so every app may use it."""


def yuan(cents: int) -> str:
    """12345 → "123.45", -5 → "-0.05" (never through float)."""
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"
