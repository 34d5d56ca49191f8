"""What catalog asks the apps above it, without importing them.

Refund terms. A product page shows the refund clauses that apply to its kind of goods before the
buyer buys (消费者权益保护法 第二十五条: an exemption from 7-day returns counts only if the buyer
confirmed it at purchase), and the order records the versions accepted. The clauses are policy
data of the refund engine, above catalog and orders: the refunds app registers the function that
reads them, in its RefundsConfig.ready() (kameng.refunds.hooks). Without one, no terms apply.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class RefundTerm:
    """One clause in the version a buyer reads (and accepts) before buying."""

    number: int
    version: int
    title: str
    body: str

    @property
    def ref(self) -> str:
        return f"{self.number}@v{self.version}"


RefundTerms = Callable[[str], list[RefundTerm]]  # (goods kind) -> the current clauses for it


def _no_terms(kind: str) -> list[RefundTerm]:
    return []


_refund_terms: RefundTerms = _no_terms


def provide_refund_terms(fn: RefundTerms) -> None:
    """Register the function that tells the current refund terms of a goods kind (one per process)."""
    global _refund_terms
    _refund_terms = fn


def refund_terms(kind: str) -> list[RefundTerm]:
    """The refund clauses that apply to goods of `kind`, in their current versions, by number."""
    return _refund_terms(kind)
