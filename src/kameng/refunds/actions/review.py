"""Platform review by agents, and a supervisor's decision on an appeal (SPEC §5)."""

from datetime import timedelta

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from kameng.accounts.models import Role, User
from kameng.money import yuan
from kameng.sentences import Sentence, label_of, stored

from .. import policy
from ..models import Clause, Demand, EventKind, Holder, Reason, RefundCase, Stage, TimerKind
from ..policy import ClauseNo
from .common import NOTE, CaseChange, RefundError, check_length, deadline_in, lock_case, move
from .filing import basis, replace, to_review
from .payout import approve

REVIEWERS = (Role.AGENT, Role.SUPERVISOR)
TRANSFER_TARGETS = {Holder.TECH, Holder.FINANCE, Holder.SUPERVISOR, Holder.AGENT}


def check_not_party(case: RefundCase, user) -> None:
    """Nobody handles a case they are a party to: its buyer, whoever filed it, its seller."""
    if user.pk in (case.buyer_id, case.created_by_id, case.seller.owner_id):
        raise RefundError(_("您是该申请的当事人（买家、提交人或卖家），不能处理，请交由其他同事。"))


def check_staff(case: RefundCase, user, *, stages: set[str], roles=REVIEWERS) -> None:
    """`user` holds one of `roles`, is no party to the case, and the case is in one of `stages`."""
    if not user.has_role(*roles):
        raise RefundError(_("您没有处理退款申请的权限。"))
    check_not_party(case, user)
    if case.stage not in stages:
        raise RefundError(_("当前阶段（%(s)s）不能执行该操作。") % {"s": case.get_stage_display()})


def check_decide(case: RefundCase, user) -> None:
    """An agent or supervisor decides a case in review; only a supervisor decides an appeal."""
    check_staff(case, user, stages={Stage.PLATFORM_REVIEW, Stage.APPEALED})
    if case.stage == Stage.APPEALED and not user.has_role(Role.SUPERVISOR):
        raise RefundError(_("申诉由客服主管处理。"))


def check_request_info(case: RefundCase, user) -> None:
    check_staff(case, user, stages={Stage.PLATFORM_REVIEW})


def check_transfer(case: RefundCase, user) -> None:
    check_staff(case, user, stages={Stage.PLATFORM_REVIEW})


def _lock_to_decide(case_id: int, agent, note: str, clause_number: int | None) -> tuple[CaseChange, Clause]:
    """Lock the case for a decision, check who decides and the note, and find the clause cited
    (by default the case's basis clause)."""
    change = lock_case(case_id)
    check_decide(change.case, agent)
    if not check_length(note, NOTE):
        raise RefundError(_("请填写处理意见（买家会看到）。"))
    number = clause_number or basis(change)
    if not policy.clause_exists(number):
        raise RefundError(_("条款号无效。"))
    change.case.decision_note = note.strip()
    return change, policy.clause_for(number, change.order)


def _by(agent, note: str) -> dict:
    return {"no": agent.agent_no or "", "n": note.strip()[:150]}


@transaction.atomic
def approve_refund(*, case_id: int, agent, note: str, clause_number: int | None = None) -> RefundCase:
    """Refund what the buyer asked for (never more than the order still holds)."""
    change, c = _lock_to_decide(case_id, agent, note, clause_number)
    case, order = change.case, change.order
    full = case.reason != Reason.DUPLICATE_PAYMENT and case.demand != Demand.PARTIAL_REFUND
    approve(
        change,
        amount=min(case.amount_requested, change.refundable().total),
        actor=agent,
        clause=c,
        reason=Sentence(gettext_noop("客服 %(no)s 同意退款：%(n)s"), **_by(agent, note)),
        void=full and case.amount_requested >= order.amount,
        revoke_keys=True,
    )
    change.save()
    return case


@transaction.atomic
def approve_part(
    *, case_id: int, agent, amount: int, note: str, clause_number: int | None = None
) -> RefundCase:
    """Refund part of what was asked; the order stays the buyer's."""
    change, c = _lock_to_decide(case_id, agent, note, clause_number)
    most = min(change.case.amount_requested, change.refundable().total)
    if not isinstance(amount, int) or isinstance(amount, bool) or not 0 < amount <= most:
        raise RefundError(_("部分退款金额须大于 0 且不超过 ¥%(a)s。") % {"a": yuan(most)})
    approve(
        change,
        amount=amount,
        actor=agent,
        clause=c,
        partial=True,
        reason=Sentence(
            gettext_noop("客服 %(no)s 同意部分退款 ¥%(a)s：%(n)s"), **_by(agent, note), a=yuan(amount)
        ),
    )
    change.save()
    return change.case


@transaction.atomic
def replace_goods(*, case_id: int, agent, note: str, clause_number: int | None = None) -> RefundCase:
    """补发 instead of money."""
    change, _c = _lock_to_decide(case_id, agent, note, clause_number)
    replace(
        change, actor=agent, reason=Sentence(gettext_noop("客服 %(no)s 决定补发：%(n)s"), **_by(agent, note))
    )
    change.save()
    return change.case


@transaction.atomic
def reject(*, case_id: int, agent, note: str, clause_number: int | None = None) -> RefundCase:
    """Refuse the claim, citing a clause. After review the buyer may appeal within clause 10's
    days; a supervisor's answer to an appeal is final."""
    change, c = _lock_to_decide(case_id, agent, note, clause_number)
    case = change.case
    said = {**_by(agent, note), "n": c.number, "t": note.strip()[:150]}
    case.decision_clause = c.ref
    if case.stage == Stage.APPEALED:
        move(
            change,
            Stage.REJECTED,
            holder=Holder.NOBODY,
            actor=agent,
            clause=c.ref,
            reason=Sentence(
                gettext_noop("客服主管 %(no)s 复核申诉后维持驳回（依据第%(n)d条）：%(t)s"), **said
            ),
        )
        change.event(EventKind.DECISION, actor=agent, clause=c.ref, decision=Stage.REJECTED, final=True)
        change.notify(case.buyer_id, Sentence(gettext_noop("您的申诉已由客服主管复核，维持驳回。")))
    else:
        days = policy.clause(ClauseNo.APPEAL).params.get("days", 7)
        move(
            change,
            Stage.REJECTED,
            holder=Holder.BUYER,
            actor=agent,
            clause=c.ref,
            due=deadline_in(days=days),
            due_kind=TimerKind.APPEAL_WINDOW,
            reason=Sentence(gettext_noop("客服 %(no)s 驳回（依据第%(n)d条）：%(t)s"), **said),
            due_action=Sentence(gettext_noop("可在此之前申诉；逾期未申诉，申请结束")),
        )
        change.event(EventKind.DECISION, actor=agent, clause=c.ref, decision=Stage.REJECTED)
        change.notify(
            case.buyer_id, Sentence(gettext_noop("您的退款申请被驳回，可在 %(d)d 天内申诉。"), d=days)
        )
    change.save()
    return case


@transaction.atomic
def claim(*, case_id: int, agent) -> RefundCase:
    """An agent (a supervisor, for an appeal) takes the case as its named holder."""
    change = lock_case(case_id)
    check_decide(change.case, agent)
    change.case.holder_user = agent
    change.event(EventKind.CLAIMED, actor=agent)
    change.save()
    return change.case


@transaction.atomic
def transfer(*, case_id: int, agent, to: str, reason: str) -> RefundCase:
    """Hand the case to another department. A transfer is visible with its reason, never silence."""
    change = lock_case(case_id)
    case = change.case
    check_transfer(case, agent)
    if to not in TRANSFER_TARGETS:
        raise RefundError(_("请选择转交对象。"))
    if not check_length(reason, NOTE):
        raise RefundError(_("转交需要写明原因。"))
    case.holder = to
    case.holder_user = None
    case.stage_reason = stored(
        Sentence(gettext_noop("已转交%(to)s：%(r)s"), to=label_of(Holder(to)), r=reason.strip()[:200])
    )
    change.event(EventKind.TRANSFERRED, actor=agent, to=to, reason=reason.strip())
    change.save()
    return case


@transaction.atomic
def request_info(*, case_id: int, agent, note: str) -> RefundCase:
    """Ask the buyer for material (clause 7): the review clock stops until it comes."""
    change = lock_case(case_id)
    case = change.case
    check_request_info(case, agent)
    if not check_length(note, NOTE):
        raise RefundError(_("请写明需要买家补充的具体材料。"))
    remaining = max(case.deadline_at - change.now, timedelta(0)) if case.deadline_at else None
    c7 = policy.clause(ClauseNo.MATERIAL)
    move(
        change,
        Stage.NEEDS_INFO,
        holder=Holder.BUYER,
        actor=agent,
        clause=c7.ref,
        due=deadline_in(hours=c7.params.get("hours", 72)),
        due_kind=TimerKind.BUYER_INFO,
        reason=Sentence(
            gettext_noop("客服 %(no)s 请您补充：%(n)s"), no=agent.agent_no or "", n=note.strip()[:200]
        ),
        due_action=Sentence(gettext_noop("逾期未补充，将按现有材料处理")),
    )
    case.paused_remaining = remaining
    case.info_requested_by = agent  # the material goes back to whoever asked for it
    change.notify(case.buyer_id, Sentence(gettext_noop("客服请您补充材料：%(n)s"), n=note.strip()[:150]))
    change.save()
    return case


def resume_review(change: CaseChange, *, reason: str, actor=None) -> None:
    """Back from needs_info: the review clock restarts with what was left on it when it stopped,
    and the case goes back to whoever asked (if they still work here)."""
    case = change.case
    remaining = case.paused_remaining
    due = change.now + remaining if remaining is not None else None
    asked_by = case.info_requested_by_id
    holder_user = User.objects.filter(pk=asked_by, is_active=True).first() if asked_by else None
    to_review(change, actor=actor, due=due, reason=reason, holder_user=holder_user)
    case.paused_remaining = None
