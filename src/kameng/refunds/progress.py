"""Where a case stands, as one picture: the badge, the holder line, the step bar and the countdown.

They are computed together from the case row (and the stages it has been through), so they cannot
disagree: the buyer's, seller's and staff pages and the API's case output all read `progress()`.
"""

from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import Holder, RefundCase, Stage
from .selectors import events_of, holder_label, time_left
from .stages import TERMINAL

S = Stage
REVIEWED = {S.PLATFORM_REVIEW, S.NEEDS_INFO, S.REJECTED}
# The step each stage lights (steps a case never needs are left out of its bar).
LIT = {
    S.SUBMITTED: "apply",
    S.VERIFYING: "verify",
    S.AWAITING_SELLER: "seller",
    S.PLATFORM_REVIEW: "review",
    S.NEEDS_INFO: "review",
    S.APPEALED: "appeal",
    S.FINANCE_REVIEW: "finance",
    S.APPROVED: "refunding",
    S.PARTIALLY_APPROVED: "refunding",
    S.REFUNDING: "refunding",
    S.REFUNDED: "done",
    S.REPLACEMENT: "done",
    S.REJECTED: "done",
    S.CANCELLED: "done",
}
# Who else may hold a stage for a while (a transfer, an escalation, money the gateway has not
# confirmed): named as a sub-step of the lit one.
HOLDER_SUBSTEP = {
    Holder.TECH: gettext_lazy("技术核验"),
    Holder.FINANCE: gettext_lazy("财务核查"),
    Holder.SUPERVISOR: gettext_lazy("主管督办"),
}


def stages_visited(case: RefundCase) -> set[str]:
    return {
        (data or {}).get("to")
        for data in events_of(case).filter(kind="stage_changed").values_list("data", flat=True)
    }


def appeal_open(case: RefundCase, now: datetime) -> bool:
    """A rejection whose appeal window is still running (the buyer holds it until then)."""
    return (
        case.stage == S.REJECTED
        and case.appealed_at is None
        and case.deadline_at is not None
        and case.deadline_at > now
    )


def badge(case: RefundCase, *, viewer_is_buyer: bool) -> dict:
    if case.stage == S.AWAITING_SELLER and case.seller_offer:
        text = _("待您确认卖家方案") if viewer_is_buyer else _("待买家确认卖家方案")
    else:
        text = str(case.get_stage_display())
    if case.stage in (S.REFUNDED, S.REPLACEMENT):
        tone = "ok"
    elif case.stage in (S.REJECTED, S.CANCELLED):
        tone = "bad"
    else:
        tone = "warn"
    return {"text": text, "tone": tone}


def _labels(case: RefundCase) -> dict[str, str]:
    done = {S.REPLACEMENT: _("已补发"), S.CANCELLED: _("已撤销"), S.REJECTED: _("已驳回")}
    return {
        "apply": _("申请"),
        "verify": _("核验"),
        "seller": _("卖家处理"),
        "review": _("平台审核"),
        "auto": _("系统自动处理"),
        "appeal": _("申诉复核"),
        "finance": _("财务复核"),
        "refunding": _("退款中"),
        "done": done.get(case.stage, _("已退款")),
    }


def _substep(case: RefundCase, now: datetime) -> str:
    """What the lit step is waiting on, when its name alone would not say it."""
    s = case.stage
    if s == S.NEEDS_INFO:
        return _("等待补充材料")
    if s == S.AWAITING_SELLER and case.seller_offer:
        return _("卖家方案待买家确认")
    if s == S.VERIFYING and case.deadline_at:
        return _("等待供应商答复")
    if s == S.APPEALED:
        return _("卖家申诉") if appealed_by(case) == "seller" else ""
    if s == S.REJECTED and appeal_open(case, now):
        return _("可申诉")
    if s in (S.PLATFORM_REVIEW, S.REFUNDING) and case.holder in HOLDER_SUBSTEP:
        return str(HOLDER_SUBSTEP[case.holder])
    if s == S.REFUNDING and case.deadline_at:
        return _("原路退回中")
    return ""


def steps(case: RefundCase, visited: set[str], now: datetime) -> list[dict]:
    """The path (申请 → 核验 → 卖家处理 / 平台审核 → … → 已退款) with the case's own steps, the
    current one lit and labelled with what it waits on."""
    stage, been = case.stage, visited | {case.stage}
    early = stage in (S.SUBMITTED, S.VERIFYING)
    platform = case.seller.is_platform
    keys = ["apply", "verify"]
    if S.AWAITING_SELLER in been or (early and not platform):
        keys.append("seller")
    if been & REVIEWED or (early and platform):
        keys.append("review")
    if len(keys) == 2 and not early:
        keys.append("auto")  # settled by the system alone: no seller, no agent touched it
    if S.APPEALED in been:
        keys.append("appeal")
    if S.FINANCE_REVIEW in been:
        keys.append("finance")
    if stage not in (S.REJECTED, S.CANCELLED, S.REPLACEMENT):
        keys.append("refunding")
    keys.append("done")
    lit = keys.index(LIT[stage])
    labels = _labels(case)
    sub = _substep(case, now)
    finished = stage in TERMINAL or (stage == S.REJECTED and not appeal_open(case, now))
    out = []
    for i, key in enumerate(keys):
        if key == "auto":
            state = "skipped"
        elif i < lit or (i == lit and finished):
            state = "done"
        elif i == lit:
            state = "current"
        else:
            state = "todo"
        label = labels[key]
        if i == lit and sub:
            label = f"{label} › {sub}"
        out.append({"key": key, "label": label, "state": state})
    return out


def countdown(case: RefundCase, holder: str, now: datetime) -> dict | None:
    """Until when the holder has, what they are to do, and what happens by itself then; only
    while someone holds the case against a deadline."""
    live = case.deadline_at is not None and (case.is_open or appeal_open(case, now))
    if not live or case.holder == Holder.NOBODY:
        return None
    return {
        "deadline": case.deadline_at,
        "time_left": time_left(case.deadline_at, now),
        "holder": holder,
        "task": task(case),
        "if_no_action": case.if_no_action,
    }


def task(case: RefundCase) -> str:
    """What the holder is expected to do before the deadline."""
    if case.holder == Holder.BUYER:
        if case.stage == S.NEEDS_INFO:
            return _("补充材料")
        if case.stage == S.REJECTED:
            return _("决定是否申诉")
        if case.seller_offer:
            return _("确认卖家方案")
    if case.holder == Holder.FINANCE:
        return _("复核")
    if case.holder == Holder.SYSTEM:
        return _("给出结果")
    return _("处理")


def progress(
    case: RefundCase, *, viewer_is_buyer: bool = False, visited: set[str] | None = None, now=None
) -> dict:
    """The badge, the holder line, the step bar and the countdown of `case`, together."""
    now = now or timezone.now()
    if visited is None:
        visited = stages_visited(case)
    holder = holder_label(case, viewer_is_buyer=viewer_is_buyer)
    bar = steps(case, visited, now)
    return {
        "badge": badge(case, viewer_is_buyer=viewer_is_buyer),
        "holder": holder,
        "holder_code": case.holder,
        "steps": bar,
        "step": next((s["label"] for s in bar if s["state"] == "current"), bar[-1]["label"]),
        "countdown": countdown(case, holder, now),
    }


def as_data(shown: dict) -> dict:
    """`progress()` as the API answers it (labels as plain strings)."""
    return {
        "badge": shown["badge"]["text"],
        "badge_tone": shown["badge"]["tone"],
        "holder": shown["holder"],
        "step": shown["step"],
        "countdown": shown["countdown"],
    }


def appealed_by(case: RefundCase) -> str | None:
    """Who made the case's one appeal: "buyer", "seller" (a contest), or None."""
    if case.appealed_by_id is None:
        return None
    return "seller" if case.appealed_by_id == case.seller.owner_id else "buyer"
