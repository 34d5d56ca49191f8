"""Platform review by agents, and a supervisor's decision on an appeal (SPEC §5)."""

from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from kameng.accounts.models import Role, User
from kameng.money import yuan
from kameng.orders import aftersales
from kameng.sentences import Sentence, label_of, stored

from .. import policy
from ..models import Clause, Demand, EventKind, Holder, Reason, RefundCase, Stage, TimerKind
from ..policy import ClauseNo
from .appeals import find_for_seller, open_appeal_window, seller_contested, uphold
from .common import NOTE, CaseChange, RefundError, check_length, deadline_in, lock_case, move
from .filing import basis, replace, to_review
from .payout import approve, destination, paid_by_case

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


def check_claim(case: RefundCase, user) -> None:
    """An agent takes a case in review that nobody holds yet; a supervisor takes an appeal, or takes
    over a case someone else holds."""
    check_staff(case, user, stages={Stage.PLATFORM_REVIEW, Stage.APPEALED})
    supervisor = user.has_role(Role.SUPERVISOR)
    if case.stage == Stage.APPEALED and not supervisor:
        raise RefundError(_("申诉由客服主管处理。"))
    if case.holder_user_id == user.pk:
        raise RefundError(_("您已认领该申请。"))
    if case.holder_user_id is not None and not supervisor:
        raise RefundError(_("该申请已由 %(who)s 认领。") % {"who": case.holder_user.public_name})


def check_decide(case: RefundCase, user) -> None:
    """The agent or supervisor who claimed a case in review decides it; only a supervisor decides
    an appeal."""
    check_staff(case, user, stages={Stage.PLATFORM_REVIEW, Stage.APPEALED})
    if case.stage == Stage.APPEALED and not user.has_role(Role.SUPERVISOR):
        raise RefundError(_("申诉由客服主管处理。"))
    if case.holder_user_id is None:
        raise RefundError(_("请先认领该申请，再作出决定。"))
    if case.holder_user_id != user.pk:
        raise RefundError(
            _("该申请已由 %(who)s 认领，只有认领人可以作出决定。") % {"who": case.holder_user.public_name}
        )


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


@dataclass(frozen=True)
class Payment:
    """What a paying decision would do now: the case's total, what leaves now, and where to."""

    total: int
    now: int
    destination: str
    finance: bool


def check_paying_decision(case: RefundCase, *, decision: str, amount, already: int, refundable: int) -> int:
    """The total a paying decision grants the case ("approve": what was asked; "partial": `amount`,
    strictly less than that), never more than the order still holds. `already` is what this case
    paid before (a decision that was appealed): it stays paid and counts towards the total."""
    most = min(case.amount_requested, already + refundable)
    if most <= already:
        raise RefundError(_("该订单已无可退款项。"))
    if decision == "approve":
        return most
    if not isinstance(amount, int) or isinstance(amount, bool) or not already < amount < most:
        raise RefundError(
            _("部分退款金额须大于 ¥%(lo)s 且小于可退全额 ¥%(hi)s；全额退款请选择“同意退款”。")
            % {"lo": yuan(already), "hi": yuan(most)}
        )
    return amount


def payment_of(case: RefundCase, *, decision: str, amount=None, already: int, refundable: int) -> Payment:
    total = check_paying_decision(
        case, decision=decision, amount=amount, already=already, refundable=refundable
    )
    threshold = policy.param(ClauseNo.LARGE_AMOUNT, "threshold", 500_00)
    return Payment(
        total=total, now=total - already, destination=destination(case, case.order), finance=total > threshold
    )


def preview_decision(*, case: RefundCase, agent, decision: str, amount=None) -> Payment:
    """What `decision` would pay, asked on a plain read (the page's confirmation step). The
    decision itself asks again under the lock and refuses if the amount confirmed differs."""
    check_decide(case, agent)
    already = case.payouts.aggregate(s=Sum("amount"))["s"] or 0
    refundable = aftersales.refundable(case.order).total
    return payment_of(case, decision=decision, amount=amount, already=already, refundable=refundable)


def _check_confirmed(change: CaseChange, *, decision: str, amount, confirmed_amount) -> Payment:
    pay = payment_of(
        change.case,
        decision=decision,
        amount=amount,
        already=paid_by_case(change),
        refundable=change.refundable().total,
    )
    if confirmed_amount != pay.now:
        raise RefundError(
            _("退款金额已变为 ¥%(a)s（您确认的是 ¥%(c)s），没有退款，请重新确认。")
            % {"a": yuan(pay.now), "c": yuan(confirmed_amount) if isinstance(confirmed_amount, int) else "—"}
        )
    return pay


@transaction.atomic
def approve_refund(
    *, case_id: int, agent, note: str, confirmed_amount: int, clause_number: int | None = None
) -> RefundCase:
    """Refund what the buyer asked for (never more than the order still holds); `confirmed_amount`
    is what the person saw and confirmed would leave now."""
    change, c = _lock_to_decide(case_id, agent, note, clause_number)
    case, order = change.case, change.order
    pay = _check_confirmed(change, decision="approve", amount=None, confirmed_amount=confirmed_amount)
    full = case.reason != Reason.DUPLICATE_PAYMENT and case.demand != Demand.PARTIAL_REFUND
    _open_window_unless_final(change)
    approve(
        change,
        amount=pay.total,
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
    *, case_id: int, agent, amount: int, note: str, confirmed_amount: int, clause_number: int | None = None
) -> RefundCase:
    """Refund part of what was asked (strictly less than all of it); the order stays the buyer's."""
    change, c = _lock_to_decide(case_id, agent, note, clause_number)
    pay = _check_confirmed(change, decision="partial", amount=amount, confirmed_amount=confirmed_amount)
    _open_window_unless_final(change)
    approve(
        change,
        amount=pay.total,
        actor=agent,
        clause=c,
        partial=True,
        reason=Sentence(
            gettext_noop("客服 %(no)s 同意部分退款 ¥%(a)s：%(n)s"), **_by(agent, note), a=yuan(pay.total)
        ),
    )
    change.save()
    return change.case


def _open_window_unless_final(change: CaseChange) -> None:
    """A decision in review may be appealed; a supervisor's decision on an appeal is final."""
    if change.case.stage != Stage.APPEALED:
        open_appeal_window(change)


@transaction.atomic
def replace_goods(*, case_id: int, agent, note: str, clause_number: int | None = None) -> RefundCase:
    """补发 instead of money."""
    change, _c = _lock_to_decide(case_id, agent, note, clause_number)
    if change.case.appealed_from in (Stage.REFUNDED, Stage.REPLACEMENT):
        raise RefundError(_("已退款或已补发的申请不能改判补发。"))
    _open_window_unless_final(change)
    change.case.approved_by = agent
    replace(
        change, actor=agent, reason=Sentence(gettext_noop("客服 %(no)s 决定补发：%(n)s"), **_by(agent, note))
    )
    change.save()
    return change.case


@transaction.atomic
def reject(*, case_id: int, agent, note: str, clause_number: int | None = None) -> RefundCase:
    """Refuse the claim, citing a clause; on an appeal, uphold the decision appealed. After review
    the buyer may appeal within clause 10's days; a supervisor's answer to an appeal is final."""
    change, c = _lock_to_decide(case_id, agent, note, clause_number)
    case = change.case
    said = {**_by(agent, note), "n": c.number, "t": note.strip()[:150]}
    if case.stage == Stage.APPEALED:
        uphold(change, agent=agent, clause_ref=c.ref, said=said)
        change.save()
        return case
    case.decision_clause = c.ref
    days = policy.clause(ClauseNo.APPEAL).params.get("days", 7)
    move(
        change,
        Stage.REJECTED,
        holder=Holder.BUYER,
        actor=agent,
        clause=c.ref,
        due=open_appeal_window(change),
        due_kind=TimerKind.APPEAL_WINDOW,
        reason=Sentence(gettext_noop("客服 %(no)s 驳回（依据第%(n)d条）：%(t)s"), **said),
        due_action=Sentence(gettext_noop("可在此之前申诉；逾期未申诉，申请结束")),
    )
    change.event(EventKind.DECISION, actor=agent, clause=c.ref, decision=Stage.REJECTED)
    change.notify(case.buyer_id, Sentence(gettext_noop("您的退款申请被驳回，可在 %(d)d 天内申诉。"), d=days))
    change.save()
    return case


@transaction.atomic
def side_with_seller(*, case_id: int, agent, note: str, clause_number: int | None = None) -> RefundCase:
    """A supervisor finds the seller's contest justified (see `appeals.find_for_seller`)."""
    change, c = _lock_to_decide(case_id, agent, note, clause_number)
    if change.case.stage != Stage.APPEALED or not seller_contested(change.case):
        raise RefundError(_("只有卖家提出的申诉可以认定卖家申诉成立。"))
    said = {**_by(agent, note), "t": note.strip()[:150]}
    find_for_seller(change, agent=agent, clause_ref=c.ref, said=said)
    change.save()
    return change.case


@transaction.atomic
def claim(*, case_id: int, agent) -> RefundCase:
    """An agent (a supervisor, for an appeal) takes the case as its named holder; only the one who
    holds it may decide it."""
    change = lock_case(case_id)
    check_claim(change.case, agent)
    before = change.case.holder_user
    change.case.holder_user = agent
    change.event(
        EventKind.CLAIMED, actor=agent, took_over_from=before.agent_no if before is not None else None
    )
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
