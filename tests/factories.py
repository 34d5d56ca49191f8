"""Small builders for test data, going through the same services a person would use."""

import itertools

from kameng.accounts.models import Role
from kameng.accounts.services import create_staff, grant_roles, register_buyer
from kameng.catalog.models import GoodsKind, Product, Seller
from kameng.catalog.services import import_card_keys
from kameng.payments.gateway import get_gateway
from kameng.payments.services import start_topup, sync_payment

PASSWORD = "test-pass-123"
_seq = itertools.count(1)


def buyer(name: str | None = None, *, balance: int = 0):
    user = register_buyer(username=name or f"buyer{next(_seq)}", password=PASSWORD)
    if balance:
        fund(user, balance)
    return user


def fund(user, amount: int) -> None:
    """Top the buyer's wallet up through the sandbox gateway, as a buyer would."""
    payment, _url = start_topup(user=user, amount=amount)
    get_gateway().pay(payment.out_trade_no)
    sync_payment(payment)


def seller(name: str | None = None, *, platform: bool = False) -> Seller:
    n = next(_seq)
    owner = None
    if not platform:
        owner = register_buyer(username=f"seller{n}", password=PASSWORD)
        grant_roles(user=owner, roles=[Role.SELLER])
    return Seller.objects.create(name=name or f"店铺{n}", owner=owner, is_platform=platform)


def staff(role: str, *, agent_no: str | None = None):
    n = next(_seq)
    return create_staff(
        username=f"{role}{n}", password=PASSWORD, roles=[role], agent_no=agent_no or f"{n:04d}"
    )


def product(
    *, kind: str = GoodsKind.CARD_KEY, price: int = 10_00, keys: int = 0, of: Seller | None = None, **extra
) -> Product:
    p = Product.objects.create(
        seller=of or seller(), kind=kind, name=f"商品{next(_seq)}", price=price, face_value=price, **extra
    )
    if keys:
        import_card_keys(product=p, data="\n".join(f"KEY-{p.pk}-{i:05d}" for i in range(keys)), actor=None)
    return p


def told(user, words: str, link: str | None = None) -> int:
    """How many of `user`'s notices say `words` (as the user reads them), with `link` if given."""
    return sum(words in n.message and (link is None or n.link == link) for n in user.notices.all())


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (8, 8), **save_options) -> bytes:
    """A real image, decodable by any viewer (the evidence tests' 1-pixel PNG is only a signature)."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format=fmt, **save_options)
    return out.getvalue()
