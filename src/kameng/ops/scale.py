"""Refund cases in bulk, for measuring how operations grow with the data (`make bench-scale`) and
for the tests that count statements at two sizes.

`seed_cases(n)` writes n delivered card-key orders, each with one refund case (a share of them
open), their deliveries, open cases' timers and both event chains, in batches with `bulk_create`.
It writes rows directly instead of going through the services, which would take hours at 100,000
cases: use it only on a scratch database or in tests. The chains are hashed as the services hash
them, so `verify_chain` passes over them.
"""

import itertools
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from kameng.accounts.models import Role, User
from kameng.accounts.services import create_staff
from kameng.catalog.models import GoodsKind, Product, Seller
from kameng.evidence.models import Event
from kameng.evidence.services import EMPTY_HEAD, new_event, save_events
from kameng.orders.models import Delivery, DeliveryStatus, Order, OrderStatus
from kameng.refunds import policy
from kameng.refunds.models import Clause, Holder, RefundCase, Stage, Timer, TimerKind
from kameng.refunds.policy import ClauseNo

PASSWORD = "kameng-bench"
BATCH = 2000
SELLERS = 10
PRICE = 30_00

# Open cases: (stage, holder, timer kind), in turn; closed cases' stages, in turn.
OPEN = [
    (Stage.AWAITING_SELLER, Holder.SELLER, TimerKind.SELLER_ANSWER),
    (Stage.PLATFORM_REVIEW, Holder.AGENT, TimerKind.REVIEW),
    (Stage.NEEDS_INFO, Holder.BUYER, TimerKind.BUYER_INFO),
]
CLOSED = [
    Stage.REFUNDED,
    Stage.REFUNDED,
    Stage.REFUNDED,
    Stage.REJECTED,
    Stage.CANCELLED,
    Stage.REFUNDED,
    Stage.REJECTED,
]


@dataclass
class Seeded:
    """Who to measure as: a buyer with exactly 3 cases, the owner of the largest shop, an agent,
    and one case with its page."""

    buyer: User
    seller_owner: User
    agent: User
    case_id: int


def seed_cases(n: int, *, case_events: int = 3) -> Seeded:
    """n refund cases (3 in 10 open) over n // 3 buyers (3 each) and SELLERS shops (half of the cases
    in the first).    `case_events` events per case chain (at least 2), the later ones citing a clause each."""
    run = uuid.uuid4().hex[:6]
    now = timezone.now()
    password = make_password(PASSWORD)
    buyers = User.objects.bulk_create(
        [User(username=f"s{run}b{i}", password=password) for i in range(max(1, n // 3))], batch_size=BATCH
    )
    owners = User.objects.bulk_create(
        [User(username=f"s{run}s{i}", password=password) for i in range(SELLERS)]
    )
    buyer_group, _new = Group.objects.get_or_create(name=Role.BUYER)
    seller_group, _new = Group.objects.get_or_create(name=Role.SELLER)
    membership = User.groups.through
    membership.objects.bulk_create(
        [membership(user_id=u.pk, group_id=buyer_group.pk) for u in buyers]
        + [membership(user_id=u.pk, group_id=seller_group.pk) for u in owners],
        batch_size=BATCH,
    )
    sellers = Seller.objects.bulk_create(
        [Seller(name=f"规模店铺{run}-{i}", owner=o) for i, o in enumerate(owners)]
    )
    products = Product.objects.bulk_create(
        [
            Product(seller=s, kind=GoodsKind.CARD_KEY, name=f"点卡{run}-{i}", price=PRICE, face_value=PRICE)
            for i, s in enumerate(sellers)
        ]
    )
    agent = create_staff(username=f"s{run}agent", password=PASSWORD, roles=[Role.AGENT], agent_no=f"S{run}")
    clauses = [c.ref for c in Clause.objects.filter(is_current=True).order_by("number")] or [""]
    case_ids: list[int] = []
    for start in range(0, n, BATCH):
        with transaction.atomic():
            case_ids += _batch(
                range(start, min(n, start + BATCH)),
                run=run,
                now=now,
                buyers=buyers,
                products=products,
                case_events=case_events,
                clauses=clauses,
            )
    return Seeded(buyer=buyers[0], seller_owner=owners[0], agent=agent, case_id=case_ids[0])


def _shop(i: int) -> int:
    return 0 if i % 2 == 0 else 1 + i % (SELLERS - 1)


def _is_open(i: int) -> bool:
    return i % 10 in (0, 3, 6)


def _batch(indexes, *, run, now, buyers, products, case_events, clauses) -> list[int]:
    orders, opened = [], {}
    held_from = now - timedelta(days=policy.param(ClauseNo.UNOPENED_KEY, "days", 7))
    for i in indexes:
        product = products[_shop(i)]
        delivered = now - timedelta(days=30, minutes=i)
        is_open = _is_open(i)
        closed_stage = CLOSED[i % len(CLOSED)]
        orders.append(
            Order(
                no=f"S{run}{i:08d}",
                buyer=buyers[i % len(buyers)],
                product=product,
                seller_id=product.seller_id,
                kind=GoodsKind.CARD_KEY,
                unit_price=PRICE,
                amount=PRICE,
                pay_method="balance",
                status=OrderStatus.REFUNDED
                if not is_open and closed_stage == Stage.REFUNDED
                else OrderStatus.DELIVERED,
                paid_at=delivered,
                delivered_at=delivered,
                refunded_at=now if not is_open and closed_stage == Stage.REFUNDED else None,
                # Open cases hold their orders' money back: the tick has held each before and looks
                # at it again within the hour (settlement.RECHECK); the others were settled or refunded.
                settlement_window_from=held_from + timedelta(seconds=i % 3600) if is_open else None,
            )
        )
        opened[i] = is_open
    orders = Order.objects.bulk_create(orders)
    Delivery.objects.bulk_create(
        [Delivery(order=o, status=DeliveryStatus.DELIVERED, delivered_at=o.delivered_at) for o in orders]
    )
    cases = []
    for i, order in zip(indexes, orders, strict=True):
        if opened[i]:
            stage, holder, _timer = OPEN[i % len(OPEN)]
            deadline, closed_at = now + timedelta(hours=1 + i % 72), None
        else:
            stage, deadline, closed_at = CLOSED[i % len(CLOSED)], None, now
            holder = Holder.NOBODY
        cases.append(
            RefundCase(
                order=order,
                buyer_id=order.buyer_id,
                seller_id=order.seller_id,
                reason="invalid_key",
                demand="full_refund",
                amount_requested=PRICE,
                amount_approved=PRICE if stage == Stage.REFUNDED else None,
                facts={"order_no": order.no, "amount": PRICE, "kind": GoodsKind.CARD_KEY},
                created_by_id=order.buyer_id,
                stage=stage,
                holder=holder,
                deadline_at=deadline,
                is_open=opened[i],
                closed_at=closed_at,
                decision_clause=clauses[i % len(clauses)] if not opened[i] else "",
            )
        )
    cases = RefundCase.objects.bulk_create(cases)
    Timer.objects.bulk_create(
        [
            Timer(case=c, kind=OPEN[i % len(OPEN)][2], stage=c.stage, due_at=c.deadline_at)
            for i, c in zip(indexes, cases, strict=True)
            if c.is_open
        ]
    )
    events = []
    for order in orders:
        events += _chain(order.stream, ["order_placed", "order_paid", "delivered"], at=order.delivered_at)
    cycle = itertools.cycle(clauses)
    for case in cases:
        kinds = ["submitted", "stage_changed"] + ["material_added"] * max(0, case_events - 2)
        events += _chain(
            case.stream, kinds, at=now, clauses=cycle, data={"to": case.stage, "from": "submitted"}
        )
    save_events(events, batch_size=BATCH)
    return [c.pk for c in cases]


def _chain(stream: str, kinds: list[str], *, at, clauses=None, data=None) -> list[Event]:
    head, chain = EMPTY_HEAD, []
    for seq, kind in enumerate(kinds, start=1):
        event = new_event(
            stream=stream,
            kind=kind,
            head=head,
            actor_label="系统",
            data=data or {},
            clause=next(clauses) if clauses and seq > 2 else "",
            at=at,
        )
        chain.append(event)
        head = (event.seq, event.hash)
    return chain
