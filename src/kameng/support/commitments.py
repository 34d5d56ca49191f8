"""Phone calls and the promises made in them (issue 15, item 6): a call is logged in the buyer's
conversation; a promise becomes a commitment with a deadline (a time, or working days on the
working calendar) that reminds its agent before it is due and tells the supervisors when it is
missed; the buyer sees it in the conversation. A buyer can book a call-back, which is a commitment
too, held by the queue until an agent takes it."""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from kameng.accounts.models import Role, User
from kameng.accounts.services import Notification, notify_many
from kameng.sentences import Sentence
from kameng.workdays.calendar import deadline as working_deadline

from . import live
from .models import AuthorKind, Call, Channel, Commitment, Conversation, Message
from .services import ANSWERING_ROLES, SupportError, check_body, lock_conversation, may_answer, system_message
from .signals import commitment_missed

REMIND_BEFORE = timedelta(minutes=30)
SUMMARY_MAX = 2000
PROMISE_MAX = 200


def _local(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def due_from(
    *, at: datetime | None = None, working_days: int | None = None, now: datetime | None = None
) -> datetime:
    """A promise's deadline: a moment the agent named, or so many working days from now."""
    now = now or timezone.now()
    if working_days is not None:
        if not 1 <= working_days <= 30:
            raise SupportError(_("工作日数须在 1 到 30 之间。"))
        return working_deadline(now, working_days, "working_days")
    if at is None:
        raise SupportError(_("请填写承诺的最晚时间。"))
    if timezone.is_naive(at):
        at = timezone.make_aware(at)
    if at <= now:
        raise SupportError(_("承诺的时间必须晚于现在。"))
    if at > now + timedelta(days=60):
        raise SupportError(_("承诺的时间不能晚于 60 天后。"))
    return at


def _commit(
    conversation: Conversation, *, kind: str, agent, text: str, due: datetime, phone: str = ""
) -> Commitment:
    now = timezone.now()
    commitment = Commitment.objects.create(
        conversation=conversation,
        kind=kind,
        agent=agent,
        text=text,
        phone=phone,
        due_at=due,
        remind_at=max(now, due - REMIND_BEFORE),
    )
    who = agent.agent_no if agent is not None and agent.agent_no else ""
    if kind == Commitment.Kind.CALLBACK and agent is None:
        said = Sentence(gettext_noop("已预约回电：%(t)s 前客服会拨打 %(p)s。"), t=_local(due), p=phone)
    else:
        said = Sentence(
            gettext_noop("客服 %(no)s 承诺：%(what)s（最晚 %(t)s）。"), no=who, what=text, t=_local(due)
        )
    system_message(conversation, said)
    return commitment


@transaction.atomic
def log_call(
    *,
    conversation_id: int,
    agent,
    direction: str,
    number: str,
    summary: str,
    at: datetime | None = None,
    promise: str = "",
    due: datetime | None = None,
) -> tuple[Call, Commitment | None]:
    """Log a call in the conversation (the buyer sees its summary); a promise made in it becomes a
    commitment with `due` as its deadline."""
    if not may_answer(agent):
        raise SupportError(_("只有客服可以记录通话。"))
    conversation = lock_conversation(conversation_id)
    if conversation.buyer_id == agent.pk:
        raise SupportError(_("您是这个会话的买家，不能自己记录；请由其他客服处理。"))
    if direction not in Call.Direction.values:
        raise SupportError(_("请选择来电或去电。"))
    number = (number or "").strip()
    if not number or len(number) > 30:
        raise SupportError(_("请填写电话号码（最多 30 个字符）。"))
    summary = check_body(summary)
    promise = (promise or "").strip()
    if len(promise) > PROMISE_MAX:
        raise SupportError(_("承诺内容最多 %(n)d 字。") % {"n": PROMISE_MAX})
    now = timezone.now()
    call = Call.objects.create(
        conversation=conversation,
        agent=agent,
        direction=direction,
        number=number,
        summary=summary,
        at=at or now,
    )
    logged = Message.objects.create(
        conversation=conversation,
        channel=Channel.PHONE,
        author_kind=AuthorKind.AGENT,
        author=agent,
        body=summary,
    )
    live.announce_message(logged)
    commitment = None
    if promise:
        if due is None:
            raise SupportError(_("请填写承诺的最晚时间。"))
        commitment = _commit(conversation, kind=Commitment.Kind.PROMISE, agent=agent, text=promise, due=due)
    conversation.last_message_at = now
    conversation.save(update_fields=["last_message_at"])
    return call, commitment


@transaction.atomic
def book_callback(*, buyer, conversation_id: int, at: datetime, phone: str) -> Commitment:
    """The buyer asks to be called back by `at`: a commitment the queue holds until an agent keeps it."""
    conversation = lock_conversation(conversation_id)
    if conversation.buyer_id != buyer.pk:
        raise SupportError(_("会话不存在。"))
    phone = (phone or "").strip()
    if not phone or len(phone) > 30 or not any(ch.isdigit() for ch in phone):
        raise SupportError(_("请填写可以接通的电话号码。"))
    if conversation.commitments.filter(kind=Commitment.Kind.CALLBACK, state=Commitment.State.OPEN).exists():
        raise SupportError(_("您已有一个待回电的预约，客服会按时联系您。"))
    due = due_from(at=at)
    return _commit(
        conversation, kind=Commitment.Kind.CALLBACK, agent=None, text=_("回电"), due=due, phone=phone
    )


@transaction.atomic
def keep(*, conversation_id: int, commitment_id: int, agent) -> Commitment:
    """The promise was kept (the call made, the refund paid)."""
    if not may_answer(agent):
        raise SupportError(_("只有客服可以处理承诺。"))
    commitment = (
        Commitment.objects.select_for_update()
        .filter(pk=commitment_id, conversation_id=conversation_id)
        .first()
    )
    if commitment is None:
        raise SupportError(_("承诺不存在。"))
    if commitment.state == Commitment.State.KEPT:
        return commitment
    conversation = lock_conversation(commitment.conversation_id)
    commitment.state, commitment.done_at = Commitment.State.KEPT, timezone.now()
    commitment.agent = commitment.agent or agent
    commitment.save(update_fields=["state", "done_at", "agent"])
    system_message(
        conversation,
        Sentence(
            gettext_noop("客服 %(no)s 已兑现承诺：%(what)s。"), no=agent.agent_no or "", what=commitment.text
        ),
    )
    return commitment


def _answering_staff():
    return User.objects.filter(groups__name__in=[str(r) for r in ANSWERING_ROLES], is_active=True).distinct()


def fire_due(now: datetime | None = None) -> dict:
    """Remind agents of commitments due soon; mark missed ones and tell the supervisors and the buyer.
    Called by the tick; each commitment is reminded once and escalated once."""
    now = now or timezone.now()
    reminded = escalated = 0
    due_soon = list(
        Commitment.objects.filter(
            state=Commitment.State.OPEN, reminded_at__isnull=True, remind_at__lte=now
        ).select_related("conversation")[:200]
    )
    for commitment in due_soon:
        with transaction.atomic():
            if not Commitment.objects.filter(pk=commitment.pk, reminded_at__isnull=True).update(
                reminded_at=now
            ):
                continue  # another tick did it
            targets = (
                [commitment.agent_id]
                if commitment.agent_id
                else list(_answering_staff().values_list("pk", flat=True))
            )
            text = Sentence(
                gettext_noop("承诺即将到期（%(t)s）：%(what)s，会话 #%(c)d。"),
                t=_local(commitment.due_at),
                what=commitment.text,
                c=commitment.conversation_id,
            )
            link = f"/support/staff/c/{commitment.conversation_id}/"
            key = f"commitment-soon:{commitment.pk}"
            notify_many([Notification(uid, text, link, key=key) for uid in targets])
            reminded += 1
    missed = list(Commitment.objects.filter(state=Commitment.State.OPEN, due_at__lte=now)[:200])
    for commitment in missed:
        with transaction.atomic():
            if not Commitment.objects.filter(pk=commitment.pk, state=Commitment.State.OPEN).update(
                state=Commitment.State.MISSED, done_at=now
            ):
                continue
            conversation = Conversation.objects.get(pk=commitment.conversation_id)
            supervisors = User.objects.filter(groups__name=str(Role.SUPERVISOR), is_active=True)
            text = Sentence(
                gettext_noop("承诺已逾期：%(what)s（最晚 %(t)s），会话 #%(c)d，请督办。"),
                what=commitment.text,
                t=_local(commitment.due_at),
                c=commitment.conversation_id,
            )
            link = f"/support/staff/c/{commitment.conversation_id}/"
            # The supervisors, and the agent who made the promise (once each: the key).
            told = {*supervisors.values_list("pk", flat=True), commitment.agent_id} - {None}
            key = f"commitment-missed:{commitment.pk}"
            notify_many([Notification(uid, text, link, key=key) for uid in sorted(told)])
            system_message(
                conversation,
                Sentence(gettext_noop("承诺“%(what)s”已逾期，已通知客服主管督办。"), what=commitment.text),
            )
            commitment_missed.send(sender=Commitment, commitment=commitment)
            escalated += 1
    return {"commitments_reminded": reminded, "commitments_missed": escalated}
