"""The seller's list keeps its order (cases waiting for the seller first) across pages, now that it
is read in two indexed parts."""

import pytest
from django.core.paginator import Paginator

from kameng.ops.scale import seed_cases
from kameng.refunds.lists import cases_of_seller
from kameng.refunds.models import RefundCase, Stage

pytestmark = pytest.mark.django_db


def waiting(case) -> bool:
    return case.stage == Stage.AWAITING_SELLER and not case.seller_offer


def test_the_sellers_list_shows_waiting_cases_first_and_every_case_once():
    seeded = seed_cases(120)  # 60 cases in the first shop
    pages = Paginator(cases_of_seller(seeded.seller_owner), 7)

    listed = [case for n in pages.page_range for case in pages.page(n)]

    shop = RefundCase.objects.filter(seller__owner=seeded.seller_owner)
    assert pages.count == shop.count() == 60
    assert sorted(c.pk for c in listed) == sorted(shop.values_list("pk", flat=True))
    flags = [waiting(c) for c in listed]
    assert any(flags) and flags == sorted(flags, reverse=True)  # every waiting case before the rest
    first_waiting = [c.deadline_at for c in listed if waiting(c)]
    assert first_waiting == sorted(first_waiting)  # soonest deadline first
