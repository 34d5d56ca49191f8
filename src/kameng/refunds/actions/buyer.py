"""What the buyer does to their own case: add material, cancel, follow up (催一催); appeals are
in `appeals`.

Each `check_…` is the rule; the action calls it under the case lock, and the buyer's page calls
it on a plain read to decide which buttons to offer, so the two cannot disagree.
"""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from kameng.accounts.models import Role, User
from kameng.sentences import Sentence, label_of

from ..models import EventKind, Holder, RefundCase, Stage
from ..stages import can_move
from .common import LONG_TEXT, RefundError, check_length, lock_case, move
from .filing import EvidenceFile, store_evidence
from .review import resume_review

FOLLOW_UP_EVERY = timedelta(hours=24)
FOLLOW_UP_QUEUE_CAP = 50  # people reminded at most when a whole queue holds the case

# Who works a case that no one person holds yet: the queue of that role.
QUEUE_ROLES = {
    Holder.AGENT: (Role.AGENT,),
    Holder.TECH: (Role.AGENT, Role.SUPERVISOR),
    Holder.FINANCE: (Role.FINANCE,),
    Holder.SUPERVISOR: (Role.SUPERVISOR,),
}


def check_own(case: RefundCase, buyer) -> None:
    if case.buyer_id != buyer.pk:
        raise RefundError(_("退款申请不存在。"))


def check_add_material(case: RefundCase, buyer) -> None:
    check_own(case, buyer)
    if not case.is_open or case.stage in (Stage.REFUNDING, Stage.REFUNDED):
        raise RefundError(_("该申请已结束，不能再补充材料。"))


def check_cancel(case: RefundCase, buyer) -> None:
    check_own(case, buyer)
    if not can_move(case.stage, Stage.CANCELLED):
        raise RefundError(_("当前阶段（%(s)s）不能执行该操作。") % {"s": case.get_stage_display()})


def next_follow_up(case: RefundCase) -> datetime | None:
    """When the buyer may follow up again (None: now, as far as the 24 hours go)."""
    if case.last_followup_at is None:
        return None
    return case.last_followup_at + FOLLOW_UP_EVERY


def check_follow_up(case: RefundCase, buyer, now: datetime | None = None) -> None:
    """Once per 24 h, on an open case that someone other than the buyer holds."""
    check_own(case, buyer)
    if not case.is_open or case.stage == Stage.REFUNDED:
        raise RefundError(_("该申请已结束。"))
    if case.holder in (Holder.BUYER, Holder.NOBODY):
        raise RefundError(_("该申请正在等待您处理，无需催促。"))
    if case.holder == Holder.SYSTEM:
        # Nobody to remind: the system decides by itself; do not spend the buyer's one follow-up.
        if case.deadline_at is None:
            raise RefundError(_("系统正在自动处理，结果出来会立即通知您，无需催促。"))
        raise RefundError(
            _("系统正在自动处理，最晚 %(t)s 给出结果，无需催促。")
            % {"t": timezone.localtime(case.deadline_at).strftime("%m-%d %H:%M")}
        )
    allowed_at = next_follow_up(case)
    if allowed_at is not None and (now or timezone.now()) < allowed_at:
        nxt = timezone.localtime(allowed_at).strftime("%m-%d %H:%M")
        raise RefundError(_("每个申请 24 小时内只能催一次，下次可催时间：%(t)s。") % {"t": nxt})


@transaction.atomic
def add_material(
    *, case_id: int, buyer, note: str = "", evidence: list[EvidenceFile] | None = None
) -> RefundCase:
    change = lock_case(case_id)
    case = change.case
    check_add_material(case, buyer)
    note = check_length(note, LONG_TEXT)
    if not note and not evidence:
        raise RefundError(_("请填写说明或上传材料。"))
    store_evidence(change, evidence or [], buyer)
    change.event(EventKind.MATERIAL_ADDED, actor=buyer, note=note)
    if case.stage == Stage.NEEDS_INFO:
        resume_review(change, actor=buyer, reason=Sentence(gettext_noop("买家已补充材料，审核计时恢复")))
    change.save()
    return case


@transaction.atomic
def cancel(*, case_id: int, buyer) -> RefundCase:
    change = lock_case(case_id)
    check_cancel(change.case, buyer)
    move(
        change,
        Stage.CANCELLED,
        holder=Holder.NOBODY,
        actor=buyer,
        reason=Sentence(gettext_noop("买家撤销了申请")),
    )
    change.save()
    return change.case


@transaction.atomic
def follow_up(*, case_id: int, buyer) -> RefundCase:
    """催一催: reminds whoever holds the case."""
    change = lock_case(case_id)
    case = change.case
    check_follow_up(case, buyer, change.now)
    case.last_followup_at = change.now
    reminded = _follow_up_targets(case)
    change.event(EventKind.FOLLOW_UP, actor=buyer, holder=case.holder, reminded=len(reminded))
    deadline = timezone.localtime(case.deadline_at).strftime("%Y-%m-%d %H:%M") if case.deadline_at else "—"
    text = Sentence(
        gettext_noop("买家催促处理退款申请 #%(id)d（%(s)s，时限 %(t)s）"),
        id=case.pk,
        s=label_of(Stage(case.stage)),
        t=deadline,
    )
    link = f"/refunds/seller/{case.pk}/" if case.holder == Holder.SELLER else f"/refunds/staff/{case.pk}/"
    for user in reminded:
        change.notify(user.pk, text, link=link)
    change.save()
    return case


def _follow_up_targets(case: RefundCase) -> list[User]:
    """The holder to remind: the named person, the seller, or everyone in the queue that holds it.
    The system (a supplier being asked) holds nobody to remind."""
    if case.holder_user is not None:
        return [case.holder_user]
    if case.holder == Holder.SELLER:
        return [case.seller.owner] if case.seller.owner_id else []
    roles = QUEUE_ROLES.get(case.holder)
    if not roles:
        return []
    return list(
        User.objects.filter(groups__name__in=roles, is_active=True)
        .distinct()
        .order_by("pk")[:FOLLOW_UP_QUEUE_CAP]
    )
