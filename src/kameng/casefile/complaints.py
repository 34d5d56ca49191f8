"""Complaints about handling (投诉): filed by the buyer from a case, raised by the system when the
platform misses its own deadline or breaks a promise, answered by a supervisor within clause 9.

Each function is one transaction. Filing and answering record an event on the case (through the
refund engine's door), so the complaint and its outcome are part of the buyer's timeline."""

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from kameng.accounts.models import Role, User
from kameng.accounts.permissions import has_role
from kameng.accounts.services import Notification, notify_many
from kameng.refunds import policy
from kameng.refunds import services as refunds
from kameng.refunds.actions.common import deadline_in
from kameng.refunds.models import RefundCase
from kameng.refunds.policy import ClauseNo
from kameng.sentences import Sentence
from kameng.support.models import Commitment
from kameng.support.services import lock_conversation, system_message

from .models import Complaint

TEXT_MAX = 2000
# A flood is contained: one open complaint per case, and a few a day per buyer.
PER_DAY = 5
Source = Complaint.Source


class ComplaintError(Exception):
    """A complaint refused; the message is for the person, in their language."""


def _due():
    c9 = policy.clause(ClauseNo.COMPLAINT)
    return deadline_in(working_days=c9.params.get("working_days", 2)), c9.ref


def _tell_supervisors(complaint: Complaint) -> None:
    supervisors = User.objects.filter(groups__name=str(Role.SUPERVISOR), is_active=True).values_list(
        "pk", flat=True
    )
    text = Sentence(
        gettext_noop("新投诉 #%(id)d（%(source)s），须在 %(due)s 前答复。"),
        id=complaint.pk,
        source=str(complaint.get_source_display()),
        due=timezone.localtime(complaint.due_at).strftime("%Y-%m-%d %H:%M"),
    )
    notify_many([Notification(uid, text, f"/casefile/complaints/{complaint.pk}/") for uid in supervisors])


@transaction.atomic
def file_complaint(*, case_id: int, buyer, text: str) -> Complaint:
    case = RefundCase.objects.select_for_update().filter(pk=case_id, buyer=buyer).first()
    if case is None:
        raise ComplaintError(_("退款申请不存在。"))
    text = (text or "").strip()
    if not text:
        raise ComplaintError(_("请写下您对处理过程的意见。"))
    if len(text) > TEXT_MAX:
        raise ComplaintError(
            _("投诉内容最多 %(n)d 字，现在是 %(m)d 字，请删减后再提交（内容没有保存）。")
            % {"n": TEXT_MAX, "m": len(text)}
        )
    if Complaint.objects.filter(case=case, state=Complaint.State.OPEN, source=Source.BUYER).exists():
        raise ComplaintError(_("这笔申请已有一条投诉在等待主管答复，答复前不能重复投诉。"))
    since = timezone.now() - timedelta(days=1)
    if Complaint.objects.filter(buyer=buyer, source=Source.BUYER, created_at__gte=since).count() >= PER_DAY:
        raise ComplaintError(_("24 小时内最多投诉 %(n)d 次，请稍后再试。") % {"n": PER_DAY})
    due, clause = _due()
    complaint = Complaint.objects.create(
        case=case, buyer=buyer, source=Source.BUYER, text=text, due_at=due, clause=clause
    )
    refunds.record_complaint(
        case_id=case.pk, actor=buyer, complaint_id=complaint.pk, source=Source.BUYER, due=due, clause=clause
    )
    _tell_supervisors(complaint)
    return complaint


def raise_for_missed_deadline(case: RefundCase) -> Complaint | None:
    """The platform missed its own deadline on `case`: a complaint is raised for the buyer (once per
    escalation). Runs inside the transaction that escalated the case."""
    origin = f"{case.stream}#{case.deadline_at:%Y%m%d%H%M%S}" if case.deadline_at else case.stream
    return _raise(
        origin=origin,
        case=case,
        conversation=None,
        buyer_id=case.buyer_id,
        source=Source.DEADLINE,
        text=_("平台未在时限内处理退款申请 #%(id)d，系统自动登记投诉。") % {"id": case.pk},
    )


def raise_for_broken_commitment(commitment: Commitment) -> Complaint | None:
    conversation = commitment.conversation
    case = (
        RefundCase.objects.filter(order_id=conversation.order_id).order_by("-id").first()
        if conversation.order_id
        else None
    )
    return _raise(
        origin=f"commitment:{commitment.pk}",
        case=case,
        conversation=conversation,
        buyer_id=conversation.buyer_id,
        source=Source.COMMITMENT,
        text=_("客服承诺“%(what)s”未在时限内兑现，系统自动登记投诉。") % {"what": commitment.text},
    )


def _raise(*, origin, case, conversation, buyer_id, source, text) -> Complaint | None:
    due, clause = _due()
    try:
        with transaction.atomic():
            complaint = Complaint.objects.create(
                case=case,
                conversation=conversation,
                buyer_id=buyer_id,
                source=source,
                origin=origin[:60],
                text=text,
                due_at=due,
                clause=clause,
            )
    except IntegrityError:  # raised already for this origin
        return None
    if case is not None:
        refunds.record_complaint(
            case_id=case.pk, actor=None, complaint_id=complaint.pk, source=source, due=due, clause=clause
        )
    elif conversation is not None:
        system_message(conversation, Sentence(gettext_noop("已自动登记投诉，客服主管将尽快答复。")))
    _tell_supervisors(complaint)
    return complaint


@transaction.atomic
def answer_complaint(*, complaint_id: int, supervisor, answer: str) -> Complaint:
    if not has_role(supervisor, Role.SUPERVISOR, Role.ADMIN):
        raise ComplaintError(_("只有客服主管可以答复投诉。"))
    complaint = Complaint.objects.select_for_update().filter(pk=complaint_id).first()
    if complaint is None:
        raise ComplaintError(_("投诉不存在。"))
    if complaint.buyer_id == supervisor.pk:
        raise ComplaintError(_("不能答复自己的投诉。"))
    if complaint.state == Complaint.State.ANSWERED:
        raise ComplaintError(_("这条投诉已经答复过了。"))
    answer = (answer or "").strip()
    if not answer:
        raise ComplaintError(_("请填写答复内容。"))
    if len(answer) > TEXT_MAX:
        raise ComplaintError(_("答复最多 %(n)d 字，请删减后再提交。") % {"n": TEXT_MAX})
    complaint.state, complaint.answer = Complaint.State.ANSWERED, answer
    complaint.answered_by, complaint.answered_at = supervisor, timezone.now()
    complaint.save(update_fields=["state", "answer", "answered_by", "answered_at"])
    if complaint.case_id:
        refunds.record_complaint_answer(
            case_id=complaint.case_id, actor=supervisor, complaint_id=complaint.pk, answer=answer
        )
    elif complaint.conversation_id:
        system_message(
            lock_conversation(complaint.conversation_id),
            Sentence(gettext_noop("主管答复投诉：%(a)s"), a=answer),
        )
    return complaint
