"""The case's state machine: every allowed move is in TRANSITIONS, nothing else is."""

from django.utils.translation import gettext_lazy as _

from .models import Stage

S = Stage
TRANSITIONS: dict[str, set[str]] = {
    S.SUBMITTED: {S.VERIFYING, S.CANCELLED},
    S.VERIFYING: {S.AWAITING_SELLER, S.PLATFORM_REVIEW, S.APPROVED, S.REPLACEMENT, S.CANCELLED},
    # The buyer accepting the seller's partial or replacement offer settles it there.
    S.AWAITING_SELLER: {S.APPROVED, S.PARTIALLY_APPROVED, S.REPLACEMENT, S.PLATFORM_REVIEW, S.CANCELLED},
    S.PLATFORM_REVIEW: {
        S.NEEDS_INFO,
        S.APPROVED,
        S.PARTIALLY_APPROVED,
        S.REPLACEMENT,
        S.REJECTED,
        S.CANCELLED,
    },
    S.NEEDS_INFO: {S.PLATFORM_REVIEW, S.CANCELLED},
    S.APPROVED: {S.FINANCE_REVIEW, S.REFUNDING, S.CANCELLED},
    S.PARTIALLY_APPROVED: {S.FINANCE_REVIEW, S.REFUNDING, S.CANCELLED},
    # Finance may send it back to review instead of paying.
    S.FINANCE_REVIEW: {S.REFUNDING, S.PLATFORM_REVIEW, S.CANCELLED},
    S.REFUNDING: {S.REFUNDED},
    # Appeals (SPEC §5): the buyer against a rejection, a partial refund or a replacement; the seller
    # against a decision that paid out of its money. A partial decision is paid at once, so it is
    # appealed from `refunded`, where it arrives; the part already paid stays paid.
    S.REJECTED: {S.APPEALED},
    S.REFUNDED: {S.APPEALED},
    S.REPLACEMENT: {S.APPEALED},
    # The supervisor decides anew, or upholds the decision appealed (back to where it was).
    S.APPEALED: {S.APPROVED, S.PARTIALLY_APPROVED, S.REPLACEMENT, S.REJECTED, S.REFUNDED},
    S.CANCELLED: set(),
}

# Where a case has ended: it can move again only through the one appeal its decision allows
# (actions.appeals decides who may, and until when).
TERMINAL = {S.REFUNDED, S.REPLACEMENT, S.CANCELLED}
# A case stops being "open" (another may start for the order) when it ends or is rejected. A new
# case on the order can never pay twice: what it may refund is what the order's ledger still holds.
CLOSED = TERMINAL | {S.REJECTED}


def can_move(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, set())


# The path a buyer sees (申请 → 核验 → 卖家处理 / 平台审核 → 退款中 → 已退款).
PATH = [
    ("apply", _("申请")),
    ("verify", _("核验")),
    ("handle", _("卖家处理 / 平台审核")),
    ("refunding", _("退款中")),
    ("done", _("已退款")),
]
STEP_OF = {
    S.SUBMITTED: "apply",
    S.VERIFYING: "verify",
    S.AWAITING_SELLER: "handle",
    S.PLATFORM_REVIEW: "handle",
    S.NEEDS_INFO: "handle",
    S.REJECTED: "handle",
    S.APPEALED: "handle",
    S.APPROVED: "refunding",
    S.PARTIALLY_APPROVED: "refunding",
    S.FINANCE_REVIEW: "refunding",
    S.REFUNDING: "refunding",
    S.REFUNDED: "done",
    S.REPLACEMENT: "done",
    S.CANCELLED: "done",
}


def path_for(stage: str) -> list[dict]:
    current = STEP_OF.get(stage, "apply")
    keys = [k for k, _label in PATH]
    index = keys.index(current)
    steps = []
    for i, (key, label) in enumerate(PATH):
        if key == "done" and stage == Stage.REPLACEMENT:
            label = _("已补发")
        elif key == "done" and stage == Stage.CANCELLED:
            label = _("已撤销")
        state = (
            "done" if i < index or (i == index and stage in TERMINAL) else "current" if i == index else "todo"
        )
        steps.append({"key": key, "label": label, "state": state})
    return steps
