"""Seed a bench database: N buyers, each with one paid-but-undelivered card-key order (an objective
refund case), and a logged-in session per buyer. Prints JSON: [{"session", "csrf", "order_no"}]."""

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kameng.settings")

import django

django.setup()

from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.middleware.csrf import CSRF_SECRET_LENGTH  # noqa: E402
from django.utils.crypto import get_random_string  # noqa: E402

from kameng.accounts.models import User  # noqa: E402
from kameng.catalog.models import GoodsKind, Product, Seller  # noqa: E402
from kameng.orders.services import new_order_no, start_order_gateway_payment  # noqa: E402
from kameng.payments.gateway import get_gateway  # noqa: E402
from kameng.payments.services import sync_payment  # noqa: E402


def main(n: int) -> None:
    seller = Seller.objects.create(name="bench-platform", is_platform=True)
    product = Product.objects.create(seller=seller, kind=GoodsKind.CARD_KEY, name="bench card", price=10_00)
    out = []
    for i in range(n):
        with transaction.atomic():
            user = User.objects.create(username=f"bench{i}")
            user.set_unusable_password()
            user.save()
            order = _pending_order(user, product)
        payment, _url = start_order_gateway_payment(order=order, user=user)
        get_gateway().pay(payment.out_trade_no)
        sync_payment(payment)
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        out.append(
            {
                "session": session.session_key,
                "csrf": get_random_string(CSRF_SECRET_LENGTH),
                "order_no": order.no,
            }
        )
    # A database in service has planner statistics (PostgreSQL's autovacuum gathers them); one
    # loaded a second ago has none yet, and its planner would scan whole tables instead.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    json.dump(out, sys.stdout)


def _pending_order(user, product):
    # Stock is empty on purpose (undelivered orders are the objective case); bypass the stock check.
    from kameng.orders.models import Delivery, Order

    order = Order.objects.create(
        no=new_order_no(),
        buyer=user,
        product=product,
        seller=product.seller,
        kind=product.kind,
        quantity=1,
        unit_price=product.price,
        amount=product.price,
        pay_method="gateway",
    )
    Delivery.objects.create(order=order)
    return order


if __name__ == "__main__":
    main(int(sys.argv[1]))
