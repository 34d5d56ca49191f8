"""A complaint arrives from the payment channel (signed, repeated) and joins the order's
conversation and refund case; staff reply to the channel. Each change is one transaction that
takes the order lock first (as refunds do), then the complaint row; what goes to the channel is an
outbox row (`ChannelCall`) sent after commit by `outbox`."""

import json
import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from kameng.money import yuan
from kameng.orders.services import lock_order
from kameng.payments.gateway import strict_int
from kameng.payments.models import Payment
from kameng.refunds import services as refunds
from kameng.refunds.models import Channel as CaseChannel
from kameng.refunds.models import Demand, Reason, RefundCase, RefundTo
from kameng.sentences import Sentence, label_of, stored

from .. import services as support
from ..models import (
    AuthorKind,
    Channel,
    ChannelCall,
    ChannelComplaint,
    ConversationState,
    Message,
    PayChannel,
)
from ..services import SupportError
from .client import signature_ok
from .deadlines import deadlines, rule_for
from .outbox import call, lock_complaint

log = logging.getLogger(__name__)

REPLY_MAX = 200  # WeChat Pay's reply (response_content) takes at most 200 characters
TEXT_MAX = 5000
S = ChannelComplaint.State


@dataclass(frozen=True)
class Notified:
    """What the channel told us about one complaint."""

    complaint_id: str
    out_trade_no: str
    kind: str
    text: str
    amount: int
    channel_state: str
    complained_at: datetime | None


@dataclass(frozen=True)
class Received:
    """The webhook's answer: `status` 200 stops the channel's retries."""

    status: int
    message: str
    complaint: ChannelComplaint | None = None
    created: bool = False


def parse(body: bytes) -> tuple[Notified, dict]:
    """The notification's fields, or ValueError for anything malformed (never guessed at)."""
    try:
        data = json.loads(body)
        if not isinstance(data, dict):
            raise ValueError("not an object")
        amount = strict_int(data.get("amount", 0))
        complained_at = parse_datetime(str(data["complained_at"])) if data.get("complained_at") else None
        note = Notified(
            complaint_id=_field(data, "complaint_id", 64, required=True),
            out_trade_no=_field(data, "out_trade_no", 40, required=True),
            kind=_field(data, "complaint_type", 30),
            text=_field(data, "detail", TEXT_MAX),
            amount=amount,
            channel_state=_field(data, "state", 30),
            complained_at=complained_at,
        )
    except (ValueError, TypeError, KeyError) as e:
        raise ValueError(f"malformed notification: {e}") from e
    if amount < 0 or (complained_at is not None and timezone.is_naive(complained_at)):
        raise ValueError("malformed notification: amount or time")
    return note, data


def _field(data: dict, name: str, limit: int, *, required: bool = False) -> str:
    value = data.get(name, "")
    if not isinstance(value, str) or len(value) > limit or "\x00" in value:
        raise ValueError(name)
    if required and not value.strip():
        raise ValueError(name)
    return value.strip()


# --- a notification arrives -----------------------------------------------------------------------


def receive(*, channel: str, body: bytes, signature: str) -> Received:
    """A signed notification from `channel`. The same complaint notified again changes nothing unless
    the channel says something new (its text, amount or state)."""
    if channel not in PayChannel.values:
        return Received(404, "unknown channel")
    if not signature_ok(body, signature):
        log.warning("pay-channel complaint refused (bad signature): channel=%s", channel)
        return Received(403, "bad signature")
    try:
        note, data = parse(body)
    except ValueError as e:
        log.warning("pay-channel complaint refused (%s): channel=%s", e, channel)
        return Received(400, "malformed")
    payment = (
        Payment.objects.filter(out_trade_no=note.out_trade_no, order__isnull=False).only("order_id").first()
    )
    if payment is None:
        # Not stored: nothing here to attach it to. The channel keeps retrying and shows it in the
        # merchant portal; the log line is what an operator searches for.
        log.warning(
            "pay-channel complaint for an unknown order: channel=%s complaint=%r out_trade_no=%r",
            channel,
            note.complaint_id,
            note.out_trade_no,
        )
        return Received(404, "unknown order")
    try:
        return _receive(channel, note, data, payment.order_id)
    except IntegrityError:
        # Another delivery of the same complaint won the race (SQLite has no row to wait on yet).
        return _receive(channel, note, data, payment.order_id)


@transaction.atomic
def _receive(channel: str, note: Notified, data: dict, order_id: int) -> Received:
    order = lock_order(order_id)  # every delivery of one complaint takes turns here
    found = (
        ChannelComplaint.objects.select_for_update()
        .filter(channel=channel, complaint_id=note.complaint_id)
        .first()
    )
    if found is not None:
        return Received(200, "success", _update(found, note, data))
    return Received(200, "success", _open(channel, note, data, order), created=True)


def _update(complaint: ChannelComplaint, note: Notified, data: dict) -> ChannelComplaint:
    new = {"buyer_text": note.text, "amount": note.amount, "channel_state": note.channel_state}
    changed = {k: v for k, v in new.items() if v and v != getattr(complaint, k)}
    if not changed:
        return complaint
    for field, value in changed.items():
        setattr(complaint, field, value)
    complaint.raw = data
    complaint.save(update_fields=[*changed, "raw"])
    Message.objects.create(
        conversation_id=complaint.conversation_id,
        channel=Channel.PAY,
        author_kind=AuthorKind.SYSTEM,
        internal=True,
        said=stored(
            Sentence(
                gettext_noop("%(ch)s更新了投诉 %(id)s：%(what)s"),
                ch=label_of(PayChannel(complaint.channel)),
                id=complaint.complaint_id,
                what="；".join(f"{k}={v}" for k, v in changed.items()),
            )
        ),
    )
    return complaint


def _open(channel: str, note: Notified, data: dict, order) -> ChannelComplaint:
    now = timezone.now()
    start = note.complained_at if note.complained_at and note.complained_at <= now else now
    rule = rule_for(channel, note.kind)
    first_due, resolve_due = deadlines(rule, start)
    conversation = support.conversation_for(buyer=order.buyer, order=order)
    if conversation.state in (ConversationState.SELF_SERVICE, ConversationState.CLOSED):
        support.ask_for_person(conversation_id=conversation.pk, buyer=order.buyer)
    conversation = support.lock_conversation(conversation.pk)
    complaint = ChannelComplaint.objects.create(
        channel=channel,
        complaint_id=note.complaint_id,
        kind=note.kind or (rule.kind if rule else ""),
        rule=rule,
        order=order,
        payment_ref=note.out_trade_no,
        conversation=conversation,
        case=_join_case(channel, note, order),
        buyer_text=note.text,
        amount=note.amount,
        channel_state=note.channel_state,
        complained_at=start,
        first_reply_due=first_due,
        resolve_due=resolve_due,
        raw=data,
    )
    ch = label_of(PayChannel(channel))
    support.system_message(
        conversation,
        Sentence(
            gettext_noop(
                "您在%(ch)s提交的投诉已转入本会话（投诉单号 %(id)s），客服会在 %(t)s 前答复。"
                "退款由平台按原支付方式退回，到账后我们会通知%(ch)s完结投诉。"
            ),
            ch=ch,
            id=note.complaint_id,
            t=timezone.localtime(first_due).strftime("%Y-%m-%d %H:%M"),
        ),
    )
    conversation.urgent = True
    conversation.last_message_at = now
    conversation.save(update_fields=["urgent", "last_message_at"])
    return complaint


def _join_case(channel: str, note: Notified, order) -> RefundCase | None:
    """The order's open refund case, or one filed now on the buyer's behalf (by the system, like a
    failed top-up's); the complaint is recorded on the case's timeline either way. A filing the
    engine refuses (nothing left to refund) leaves the complaint for a person: logged, not raised."""
    case = RefundCase.objects.filter(order=order, is_open=True).first()
    if case is None:
        partial = 0 < note.amount < order.amount
        try:
            case = refunds.submit_refund(
                actor=order.buyer,
                order=order,
                reason=Reason.OTHER,
                demand=Demand.PARTIAL_REFUND if partial else Demand.FULL_REFUND,
                amount=note.amount if partial else None,
                description=note.text,
                refund_to=RefundTo.ORIGINAL,
                channel=CaseChannel.SYSTEM,
            )
        except refunds.RefundError as e:
            log.warning(
                "pay-channel complaint %s: no refund case filed for %s: %s", note.complaint_id, order.no, e
            )
            return None
    return refunds.note_channel_complaint(
        case_id=case.pk,
        channel=channel,
        channel_label=label_of(PayChannel(channel)).text,  # the source text: shown in the reader's language
        complaint_id=note.complaint_id,
        amount=note.amount,
    )


# --- staff reply to the channel ---------------------------------------------------------------------


@transaction.atomic
def reply(*, complaint_id: int, agent, text: str, conversation_id: int | None = None) -> ChannelCall:
    """An agent's answer to the buyer's complaint: goes to the channel (which shows it to the buyer
    there) and into the order's conversation."""
    if not support.may_answer(agent):
        raise SupportError(_("只有客服可以回复投诉。"))
    text = (text or "").strip()
    if not text:
        raise SupportError(_("请输入回复内容。"))
    if len(text) > REPLY_MAX:
        raise SupportError(
            _("支付渠道的回复最多 %(n)d 字，现在是 %(m)d 字，请删减后再发送（内容没有发出）。")
            % {"n": REPLY_MAX, "m": len(text)}
        )
    complaint = lock_complaint(complaint_id)
    if conversation_id is not None and complaint.conversation_id != conversation_id:
        raise SupportError(_("投诉不存在。"))
    if complaint.state == S.COMPLETED:
        raise SupportError(_("该投诉已完结，不能再回复。"))
    support.post_message(
        conversation_id=complaint.conversation_id, author=agent, body=text, channel=Channel.PAY
    )
    return call(complaint, ChannelCall.Action.REPLY, text=text, author=agent)


def amount_text(complaint: ChannelComplaint) -> str:
    return f"¥{yuan(complaint.amount)}" if complaint.amount else "—"
