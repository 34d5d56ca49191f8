"""The lists of cases the pages and the API page through: each read in an order an index serves
(see RefundCase.Meta.indexes), so a page costs the same whatever the number of cases."""

from django.db.models import F, Q

from kameng.catalog.models import Seller

from .models import Stage
from .selectors import cases


def cases_of_buyer(user):
    return cases().filter(buyer=user)


def shops_of(user) -> list[int]:
    return list(Seller.objects.filter(owner=user).values_list("pk", flat=True)) if user.pk else []


def cases_of_party(user):
    """The cases `user` is the buyer of or whose shop sold the order, newest first. The shop is
    looked up first, so each side reads its own index (buyer, seller) instead of joining every case
    to its shop's owner."""
    shops = shops_of(user)
    mine = Q(buyer=user) | Q(seller__in=shops) if shops else Q(buyer=user)
    return cases().filter(mine).order_by("-created_at", "-id")


class Sections:
    """Querysets listed one after the other as one list, for Django's Paginator (count and slices).
    Each part keeps an order its own index serves, where one combined sort could use none; a part
    the page does not reach is not queried."""

    def __init__(self, *parts):
        self.parts = parts
        self.sizes: list[int] | None = None

    def count(self) -> int:
        self.sizes = [part.count() for part in self.parts]
        return sum(self.sizes)

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, window: slice) -> list:
        if self.sizes is None:
            self.count()
        start = window.start or 0
        stop = sum(self.sizes) if window.stop is None else window.stop
        found, offset = [], 0
        for part, size in zip(self.parts, self.sizes, strict=True):
            low, high = max(start - offset, 0), min(stop - offset, size)
            if low < high:
                found += list(part[low:high])
            offset += size
        return found


def cases_of_seller(user):
    """The seller's cases: the ones waiting for it first (soonest deadline), then the rest (those
    with a deadline first, soonest first, then newest first)."""
    shop = cases().filter(seller__in=shops_of(user))
    waiting = Q(stage=Stage.AWAITING_SELLER, seller_offer="")
    order = (F("deadline_at").asc(nulls_last=True), "-created_at", "-id")
    return Sections(shop.filter(waiting).order_by(*order), shop.exclude(waiting).order_by(*order))


def staff_queue(*, stage: str = ""):
    """Most urgent first: the soonest deadline, then the largest amount. Default: every open case."""
    qs = cases()
    if stage in Stage.values:
        qs = qs.filter(stage=stage)
    else:
        qs = qs.filter(is_open=True)
    return qs.order_by(F("deadline_at").asc(nulls_last=True), "-amount_requested", "id")
