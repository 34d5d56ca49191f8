"""Nobody decides a case they are a party to: an agent, supervisor or finance member who is its
buyer, filed it, or owns its shop is refused at every step, and the money stays where it is.
(Found in use: agent1 bought, filed, claimed and approved their own refund over the seller's
refusal.)"""

import itertools

import pytest

from kameng.accounts.models import Role
from kameng.accounts.services import create_staff
from kameng.catalog.models import Seller
from kameng.orders.services import place_order, reveal_card_keys
from kameng.refunds.models import Stage
from kameng.refunds.services import (
    RefundError,
    approve_refund,
    claim,
    finance_decide,
    request_info,
    seller_refuse,
    submit_refund,
    transfer,
)
from kameng.wallet.services import buyer_balance
from tests import factories as f

from .helpers import decide, screenshot

pytestmark = pytest.mark.django_db

PRICE = 600_00  # above clause 8's threshold: an approval goes to finance


_numbers = itertools.count(1)


def staff_member(*roles):
    n = next(_numbers)
    return create_staff(username=f"party{n}", password=f.PASSWORD, roles=list(roles), agent_no=f"9{n:03d}")


def case_where(who, party: str):
    """A case in platform review (finance review when `who` only holds finance) with `who` as the
    named party."""
    if party == "seller":
        shop = Seller.objects.create(name="自家店", owner=who)
        buyer = f.buyer(balance=PRICE)
        order = place_order(buyer=buyer, product=f.product(price=PRICE, keys=1, of=shop))
    else:
        buyer = who if party == "buyer" else f.buyer()
        f.fund(buyer, PRICE)
        order = place_order(buyer=buyer, product=f.product(price=PRICE, keys=1, of=f.seller(platform=True)))
    reveal_card_keys(order_id=order.pk, buyer=buyer)
    filer = who if party == "filer" else buyer
    case = submit_refund(
        order=order, actor=filer, reason="other", demand="full_refund", description="不想要了"
    )
    if case.stage == Stage.AWAITING_SELLER:
        case = seller_refuse(case_id=case.pk, seller_user=who, note="已发货", evidence=[screenshot("chat")])
    assert case.stage == Stage.PLATFORM_REVIEW
    return case


@pytest.mark.parametrize("party", ["buyer", "filer", "seller"])
@pytest.mark.parametrize("role", [Role.AGENT, Role.SUPERVISOR])
def test_a_reviewer_never_handles_a_case_they_are_party_to(role, party):
    who = staff_member(role, Role.SELLER) if party == "seller" else staff_member(role)
    case = case_where(who, party)
    paid_before = buyer_balance(case.buyer)

    for act in (
        lambda: claim(case_id=case.pk, agent=who),
        lambda: approve_refund(case_id=case.pk, agent=who, note="同意", confirmed_amount=1),
        lambda: request_info(case_id=case.pk, agent=who, note="补充"),
        lambda: transfer(case_id=case.pk, agent=who, to="tech", reason="转技术"),
    ):
        with pytest.raises(RefundError, match="当事人"):
            act()

    case.refresh_from_db()
    assert case.stage == Stage.PLATFORM_REVIEW and case.holder_user_id is None
    assert buyer_balance(case.buyer) == paid_before
    # Someone who is no party decides it as before.
    assert (
        decide("approve", case_id=case.pk, agent=staff_member(role), note="同意").stage
        == Stage.FINANCE_REVIEW
    )


@pytest.mark.parametrize("party", ["buyer", "filer", "seller"])
def test_finance_never_approves_a_payout_they_are_party_to(party):
    # A filer on a buyer's behalf is an agent; the seller owns a shop.
    extra = {"filer": [Role.AGENT], "seller": [Role.SELLER]}.get(party, [])
    who = staff_member(Role.FINANCE, *extra)
    case = case_where(who, party)
    case = decide("approve", case_id=case.pk, agent=staff_member(Role.AGENT), note="同意")
    assert case.stage == Stage.FINANCE_REVIEW
    paid_before = buyer_balance(case.buyer)

    with pytest.raises(RefundError, match="当事人"):
        finance_decide(case_id=case.pk, user=who, approve=True)

    assert buyer_balance(case.buyer) == paid_before
    assert (
        finance_decide(case_id=case.pk, user=staff_member(Role.FINANCE), approve=True).stage == Stage.REFUNDED
    )
