"""What goes back to the payment channel: replies, the refund, completion. Each is a `ChannelCall`
row written in the transaction that decided it and sent after commit, in order per complaint (a
completion never overtakes the refund it needs), retried with backoff until the channel takes it.
The channel deduplicates on the row's key, so sending twice is harmless; losing one is impossible.

The tick also completes complaints whose case is refunded with the money in the ledger (the buyer
can see it), and tells supervisors about a first reply the channel's deadline passed without."""

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django_tasks import task

from kameng.accounts.models import Role, User
from kameng.accounts.services import Notification, notify_many
from kameng.money import yuan
from kameng.orders.services import lock_order
from kameng.refunds.models import Payout, Stage
from kameng.sentences import Sentence, label_of, stored
from kameng.wallet.selectors import posted_keys

from .. import services as support
from ..models import AuthorKind, Channel, ChannelCall, ChannelComplaint, Message, PayChannel
from ..services import SupportError
from .client import ChannelError, client_for

log = logging.getLogger(__name__)
S = ChannelComplaint.State
RETRY_FIRST = timedelta(seconds=10)
RETRY_MAX = timedelta(minutes=10)
BATCH = 200


def retry_delay(attempts: int) -> timedelta:
    return min(RETRY_FIRST * 2 ** min(max(attempts - 1, 0), 16), RETRY_MAX)


def lock_complaint(complaint_id: int) -> ChannelComplaint:
    """The order lock, then the complaint's (the order first, as everywhere)."""
    order_id = ChannelComplaint.objects.filter(pk=complaint_id).values_list("order_id", flat=True).first()
    if order_id is None:
        raise SupportError(_("投诉不存在。"))
    lock_order(order_id)
    return ChannelComplaint.objects.select_for_update().get(pk=complaint_id)


def call(
    complaint: ChannelComplaint, action: str, *, text: str = "", amount: int = 0, author=None
) -> ChannelCall:
    """Queue one call to the channel (in the caller's transaction, which holds the complaint lock);
    it is sent after the transaction commits."""
    n = complaint.calls.filter(action=action).count() + 1
    made = ChannelCall.objects.create(
        complaint=complaint,
        key=f"complaint:{complaint.pk}:{action}:{n}",
        action=action,
        text=text,
        amount=amount,
        author=author,
        next_attempt_at=timezone.now(),
    )
    transaction.on_commit(lambda: send_channel_calls.enqueue(complaint.pk))
    return made


@task()
def send_channel_calls(complaint_id: int) -> int:
    return flush(complaint_id)


def flush(complaint_id: int) -> int:
    """Send the complaint's unsent calls in order, the network call outside any lock; stop at the
    first the channel refuses (it is retried after a backoff; the later ones wait for it)."""
    complaint = ChannelComplaint.objects.get(pk=complaint_id)
    try:
        client = client_for(complaint.channel)
    except KeyError:
        log.warning("no client for pay channel %s: complaint %s waits", complaint.channel, complaint.pk)
        failed(complaint.calls.filter(sent_at__isnull=True), "no client for this channel")
        return 0
    sent = 0
    for pending in complaint.calls.filter(sent_at__isnull=True).order_by("id"):
        try:
            client.send(pending)
        except ChannelError as e:
            failed(ChannelCall.objects.filter(pk=pending.pk, sent_at__isnull=True), str(e))
            log.info("pay-channel call %s not taken yet: %s", pending.key, e)
            return sent
        accepted(pending.pk)
        sent += 1
    return sent


def failed(calls, error: str) -> None:
    """Count an attempt the channel did not take and push the next one out by the backoff."""
    for pk, attempts in calls.values_list("pk", "attempts"):
        ChannelCall.objects.filter(pk=pk, sent_at__isnull=True).update(
            attempts=F("attempts") + 1,
            last_error=error[:200],
            next_attempt_at=timezone.now() + retry_delay(attempts + 1),
        )


@transaction.atomic
def accepted(call_id: int) -> None:
    """The channel took the call: record it (once) and what it means for the complaint."""
    complaint = lock_complaint(ChannelCall.objects.values_list("complaint_id", flat=True).get(pk=call_id))
    now = timezone.now()
    if not ChannelCall.objects.filter(pk=call_id, sent_at__isnull=True).update(
        sent_at=now, attempts=F("attempts") + 1
    ):
        return  # another sender recorded it
    action = ChannelCall.objects.values_list("action", flat=True).get(pk=call_id)
    if action == ChannelCall.Action.REPLY and complaint.replied_at is None:
        complaint.replied_at = now
        if complaint.state == S.OPEN:
            complaint.state = S.REPLIED
    elif action == ChannelCall.Action.COMPLETE:
        complaint.state, complaint.completed_at = S.COMPLETED, now
        conversation = support.lock_conversation(complaint.conversation_id)
        support.system_message(
            conversation,
            Sentence(
                gettext_noop("您在%(ch)s的投诉（%(id)s）已完结。"),
                ch=label_of(PayChannel(complaint.channel)),
                id=complaint.complaint_id,
            ),
        )
    complaint.save(update_fields=["replied_at", "state", "completed_at"])


# --- the tick -------------------------------------------------------------------------------------


def resend_due(now: datetime) -> int:
    """Hand complaints with a call due for another attempt to the workers, once per attempt."""
    due = list(
        ChannelCall.objects.filter(sent_at__isnull=True, next_attempt_at__lte=now).values_list(
            "pk", "complaint_id", "attempts"
        )[:BATCH]
    )
    complaints = set()
    for pk, complaint_id, attempts in due:
        ChannelCall.objects.filter(pk=pk).update(next_attempt_at=now + retry_delay(attempts + 1))
        complaints.add(complaint_id)
    for complaint_id in complaints:
        send_channel_calls.enqueue(complaint_id)
    return len(complaints)


def money_visible(case_id: int) -> int:
    """What the case paid back, if every payout is done and in the ledger (the buyer sees it in
    their balance or back on the payment), else 0."""
    payouts = list(Payout.objects.filter(case_id=case_id).values_list("key", "status", "amount"))
    if not payouts or any(status != Payout.Status.SUCCEEDED for _key, status, _amount in payouts):
        return 0
    if posted_keys(key for key, _status, _amount in payouts) != {key for key, _s, _a in payouts}:
        return 0
    return sum(amount for _key, _status, amount in payouts)


def complete_refunded(now: datetime) -> int:
    """Complaints whose case is refunded and whose money the buyer can see: tell the channel the
    refund, then complete the complaint there."""
    found = list(
        ChannelComplaint.objects.filter(
            state__in=[S.OPEN, S.REPLIED], case__stage=Stage.REFUNDED
        ).values_list("pk", "case_id")[:BATCH]
    )
    done = 0
    for complaint_id, case_id in found:
        amount = money_visible(case_id)
        if not amount:
            continue
        with transaction.atomic():
            complaint = lock_complaint(complaint_id)
            if complaint.state not in (S.OPEN, S.REPLIED):
                continue
            call(complaint, ChannelCall.Action.REFUND, amount=amount)
            call(complaint, ChannelCall.Action.COMPLETE)
            complaint.state = S.COMPLETING
            complaint.save(update_fields=["state"])
            support.system_message(
                support.lock_conversation(complaint.conversation_id),
                Sentence(
                    gettext_noop("退款 ¥%(amt)s 已到账，我们已通知%(ch)s完结您的投诉。"),
                    amt=yuan(amount),
                    ch=label_of(PayChannel(complaint.channel)),
                ),
            )
            done += 1
    return done


def escalate_missed(now: datetime) -> int:
    """A first reply the channel's deadline passed without: supervisors are told, once."""
    late = list(
        ChannelComplaint.objects.filter(
            state=S.OPEN, first_reply_due__lte=now, replied_at__isnull=True, escalated_at__isnull=True
        )[:BATCH]
    )
    supervisors = list(
        User.objects.filter(groups__name=str(Role.SUPERVISOR), is_active=True).values_list("pk", flat=True)
    )
    done = 0
    for complaint in late:
        with transaction.atomic():
            if not ChannelComplaint.objects.filter(pk=complaint.pk, escalated_at__isnull=True).update(
                escalated_at=now
            ):
                continue
            text = Sentence(
                gettext_noop("%(ch)s投诉 %(id)s（会话 #%(c)d）已超过首次回复时限 %(t)s，请督办。"),
                ch=label_of(PayChannel(complaint.channel)),
                id=complaint.complaint_id,
                c=complaint.conversation_id,
                t=timezone.localtime(complaint.first_reply_due).strftime("%Y-%m-%d %H:%M"),
            )
            link = f"/support/staff/c/{complaint.conversation_id}/"
            notify_many([Notification(pk, text, link) for pk in supervisors])
            Message.objects.create(
                conversation_id=complaint.conversation_id,
                channel=Channel.PAY,
                author_kind=AuthorKind.SYSTEM,
                internal=True,
                said=stored(text),
            )
            done += 1
    return done


def tick(now: datetime | None = None) -> dict:
    now = now or timezone.now()
    return {
        "complaints_escalated": escalate_missed(now),
        "complaints_completing": complete_refunded(now),
        "complaint_calls_resent": resend_due(now),
    }
