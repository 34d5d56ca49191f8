from .models import CardKey, CardKeyStatus


def available_keys(product_id: int) -> int:
    """How many keys of the product are free to sell."""
    return CardKey.objects.filter(product_id=product_id, status=CardKeyStatus.AVAILABLE).count()


def has_available_keys(product_id: int) -> bool:
    return CardKey.objects.filter(product_id=product_id, status=CardKeyStatus.AVAILABLE).exists()
