"""Finance's second approval of a large refund (clause 8)."""

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from kameng.accounts.models import Role
from kameng.sentences import Sentence

from .. import policy
from ..models import EventKind, RefundCase, Stage
from ..policy import ClauseNo
from .common import NOTE, RefundError, check_length, lock_case
from .filing import to_review
from .payout import execute
from .review import check_staff


def check_finance_review(case: RefundCase, user) -> None:
    """A finance member other than the one who approved it reviews a case waiting for finance."""
    check_staff(case, user, stages={Stage.FINANCE_REVIEW}, roles=(Role.FINANCE,))
    if case.approved_by_id == user.pk:
        raise RefundError(_("同一人不能既审批又复核，请由另一位财务人员处理。"))


@transaction.atomic
def finance_decide(*, case_id: int, user, approve: bool, note: str = "") -> RefundCase:
    """Pay the approved refund, or send it back to review with a reason."""
    change = lock_case(case_id)
    case = change.case
    check_finance_review(case, user)
    note = check_length(note, NOTE)
    if not approve and not note:
        raise RefundError(_("退回审核需要写明原因。"))
    case.finance_by = user
    change.event(
        EventKind.FINANCE_DECISION,
        actor=user,
        approve=approve,
        note=note,
        clause=policy.clause(ClauseNo.LARGE_AMOUNT).ref,
    )
    if approve:
        execute(change)
    else:
        to_review(
            change, actor=user, reason=Sentence(gettext_noop("财务退回审核：%(n)s"), n=note.strip()[:200])
        )
    change.save()
    return case
