"""Shared steps for refund stories: paid orders of every kind, evidence, timers and invariants."""

from datetime import timedelta

import freezegun
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Sum
from django.utils import timezone

from kameng.accounts.models import Role
from kameng.accounts.services import create_staff
from kameng.catalog.services import import_card_keys
from kameng.evidence.models import Event
from kameng.inventory.models import CardKey
from kameng.orders.models import Order, OrderStatus
from kameng.orders.services import deliver_custom_service, place_order, start_order_gateway_payment
from kameng.payments.gateway import get_gateway
from kameng.payments.models import Payment, PaymentStatus
from kameng.payments.services import sync_payment
from kameng.refunds import policy
from kameng.refunds import services as engine
from kameng.refunds.models import Payout, RefundCase, Timer
from kameng.refunds.services import EvidenceFile
from kameng.refunds.stages import CLOSED, TRANSITIONS
from kameng.wallet.services import check_ledger
from tests import factories as f
from tests.orders.helpers import at_once  # noqa: F401  (re-exported for the refund race tests)

# The pool and the driver keep their own monotonic clocks; a frozen clock must not stop them.
freezegun.configure(extend_ignore_list=["psycopg_pool", "psycopg"])

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)


def screenshot(item: str) -> EvidenceFile:
    return EvidenceFile(item=item, file=SimpleUploadedFile(f"{item}.png", PNG, content_type="image/png"))


def evidence_for(reason: str, kind: str) -> list[EvidenceFile]:
    """Everything the rule for reason × kind asks for, in one go."""
    return [screenshot(item["code"]) for item in policy.evidence_items(reason, kind)]


def staff(*roles: str):
    n = next(f._seq)
    return create_staff(username=f"staff{n}", password=f.PASSWORD, roles=list(roles), agent_no=f"{n:05d}")


def agent():
    return staff(Role.AGENT)


def pay_online(order: Order, buyer) -> Payment:
    """One more successful gateway payment for the order (a second one is a duplicate payment)."""
    if order.status == OrderStatus.PENDING:
        payment, _url = start_order_gateway_payment(order=order, user=buyer)
    else:
        n = Payment.objects.filter(order=order).count()
        payment = Payment.objects.create(
            out_trade_no=f"PDUP{order.pk}x{n}",
            user=buyer,
            order=order,
            purpose="order",
            method="gateway",
            gateway="sandbox",
            amount=order.amount,
        )
        get_gateway().create_trade(out_trade_no=payment.out_trade_no, amount=order.amount, subject="x")
    get_gateway().pay(payment.out_trade_no)
    sync_payment(payment)
    order.refresh_from_db()
    return payment


def gateway_order(buyer, product, *, pays: int = 1, **kwargs) -> Order:
    order = place_order(buyer=buyer, product=product, pay_method="gateway", **kwargs)
    for _ in range(pays):
        pay_online(order, buyer)
    return order


def undelivered_key_order(buyer, product) -> Order:
    """Paid online, but the last key went to someone else before the money arrived: waiting for stock."""
    order = place_order(buyer=buyer, product=product, pay_method="gateway")
    for _ in range(CardKey.objects.filter(product=product, status="available").count()):
        place_order(buyer=f.buyer(balance=product.price), product=product)
    pay_online(order, buyer)
    assert order.status == OrderStatus.PAID
    return order


def keys(product, *texts: str) -> None:
    import_card_keys(product=product, data="\n".join(texts), actor=None)


def delivered_custom_order(buyer, *, price: int, seller=None) -> Order:
    seller = seller or f.seller()
    seller.refresh_from_db()
    product = f.product(kind="custom_service", price=price, of=seller)
    order = place_order(buyer=buyer, product=product)
    if seller.owner_id:
        owner = seller.owner
    else:
        owner = f.buyer()
        seller.owner = owner
        seller.save(update_fields=["owner"])
    return deliver_custom_service(order_id=order.pk, seller_user=owner, note="论文查重报告已交付")


def stage_moves(case: RefundCase) -> list[tuple[str, str]]:
    return [
        (e.data["from"], e.data["to"])
        for e in Event.objects.filter(stream=case.stream, kind="stage_changed").order_by("seq")
    ]


def open_deadline(case: RefundCase) -> Timer:
    return Timer.objects.filter(case=case, done_at__isnull=True).exclude(kind="supplier_recheck").get()


def make_due(case: RefundCase) -> None:
    """Wind the case's clocks forward: every open deadline is now a second in the past."""
    past = timezone.now() - timedelta(seconds=1)
    Timer.objects.filter(case=case, done_at__isnull=True).update(due_at=past)
    RefundCase.objects.filter(pk=case.pk, deadline_at__isnull=False).update(deadline_at=past)


def assert_invariants() -> None:
    """What must hold after anything the engine does, whatever happened before."""
    for e in Event.objects.filter(stream__startswith="case:", kind="stage_changed"):
        assert e.data["to"] in TRANSITIONS[e.data["from"]], f"illegal move {e.data['from']} → {e.data['to']}"
    assert check_ledger() == []
    for order in Order.objects.all():
        paid = (
            Payment.objects.filter(
                order=order, status=PaymentStatus.SUCCEEDED, credited_to_balance=False
            ).aggregate(s=Sum("amount"))["s"]
            or 0
        )
        refunded = Payout.objects.filter(case__order=order).aggregate(s=Sum("amount"))["s"] or 0
        assert refunded <= paid, f"order {order.no}: refunded {refunded} > paid {paid}"
        assert RefundCase.objects.filter(order=order, is_open=True).count() <= 1
        for payment in Payment.objects.filter(order=order, status=PaymentStatus.SUCCEEDED):
            back = Payout.objects.filter(payment=payment).aggregate(s=Sum("amount"))["s"] or 0
            assert back <= payment.amount, (
                f"payment {payment.out_trade_no} paid back {back} > {payment.amount}"
            )
        if order.status == OrderStatus.REFUNDED:
            assert not CardKey.objects.filter(order=order, status="assigned").exists(), (
                "refunded yet delivered"
            )
    for case in RefundCase.objects.all():
        assert case.is_open == (case.stage not in CLOSED)


def decide(decision: str, *, case_id: int, agent, note: str = "处理意见", amount=None, clause_number=None):
    """A staff decision as the page makes it: claim the case first (unless already theirs), then,
    for a decision that pays, confirm the amount the confirmation step shows."""
    case = RefundCase.objects.select_related("seller", "order").filter(pk=case_id).first()
    if case is None or case.holder_user_id != agent.pk:
        engine.claim(case_id=case_id, agent=agent)
        case.refresh_from_db()
    extra = {"amount": amount} if decision == "partial" else {}
    if decision in engine.PAYING:
        shown = engine.preview_decision(case=case, agent=agent, decision=decision, amount=amount)
        extra["confirmed_amount"] = shown.now
    return engine.DECISIONS[decision](
        case_id=case_id, agent=agent, note=note, clause_number=clause_number, **extra
    )
