"""The refund engine's door: every action other code may call (pages, API, tasks, other apps).

Each action is one transaction that locks the order row, then the case row, checks who may act,
moves the case through `stages.TRANSITIONS` and records its events; see `refunds.actions`.
"""

from .actions.appeals import appeal, contest
from .actions.buyer import add_material, cancel, follow_up
from .actions.common import NotFound, RefundError
from .actions.complaints import note_channel_complaint, record_complaint, record_complaint_answer
from .actions.filing import EvidenceFile, submit_refund
from .actions.finance import finance_decide
from .actions.payout import complete_gateway_refund
from .actions.review import (
    approve_part,
    approve_refund,
    claim,
    preview_decision,
    reject,
    replace_goods,
    request_info,
    side_with_seller,
    transfer,
)
from .actions.seller import buyer_answer_offer, seller_agree, seller_offer, seller_refuse
from .actions.timers import fire_timer

# A staff decision on a case in review (or a supervisor's on an appeal), by the name pages and the
# API use for it; only "partial" takes an amount, and the ones that pay (PAYING) take the amount
# the person confirmed. On an appeal "reject" upholds the decision appealed, and "for_seller" finds
# a seller's contest justified.
DECISIONS = {
    "approve": approve_refund,
    "partial": approve_part,
    "replace": replace_goods,
    "reject": reject,
    "for_seller": side_with_seller,
}
PAYING = {"approve", "partial"}

__all__ = [
    "DECISIONS",
    "PAYING",
    "EvidenceFile",
    "NotFound",
    "RefundError",
    "add_material",
    "appeal",
    "approve_part",
    "approve_refund",
    "buyer_answer_offer",
    "cancel",
    "claim",
    "complete_gateway_refund",
    "contest",
    "finance_decide",
    "fire_timer",
    "follow_up",
    "note_channel_complaint",
    "preview_decision",
    "record_complaint",
    "record_complaint_answer",
    "reject",
    "replace_goods",
    "request_info",
    "seller_agree",
    "seller_offer",
    "seller_refuse",
    "side_with_seller",
    "submit_refund",
    "transfer",
]
