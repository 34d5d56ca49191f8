"""A payment channel's deadlines for a complaint, from the rule rows admins edit
(`ChannelComplaintRule`; seeded with DEFAULT_RULES by the support migration 0004)."""

from datetime import datetime, time, timedelta

from django.utils import timezone

from ..models import ChannelComplaintRule, DeadlineUnit

# (channel, complaint_type, name, first reply, unit, resolved within, unit, the channel's default).
# WeChat Pay 消费者投诉: first reply by the end of the next day, resolved within 3 days (SPEC §8);
# WeChat Mini Program 交易投诉: 48 h for both. Alipay 交易投诉 is our own default, not a figure
# Alipay publishes: first reply within 24 h, resolved within 3 days.
DEFAULT_RULES = [
    ("wechatpay", "consumer", "微信支付 消费者投诉", 1, "end_of_day", 3, "days", True),
    ("wechatpay", "mini_program", "微信小程序 交易投诉", 48, "hours", 48, "hours", False),
    ("alipay", "trade", "支付宝 交易投诉", 24, "hours", 3, "days", True),
]
# Used only when no rule row matches (an admin deleted them all): the strictest of the defaults.
FALLBACK = (24, DeadlineUnit.HOURS, 48, DeadlineUnit.HOURS)


def ensure_default_rules(model=ChannelComplaintRule) -> None:
    """Write the default rules that are missing (the migration passes its historical model)."""
    for channel, kind, name, first, first_unit, resolve, resolve_unit, default in DEFAULT_RULES:
        model.objects.get_or_create(
            channel=channel,
            kind=kind,
            defaults={
                "name": name,
                "first_reply": first,
                "first_reply_unit": first_unit,
                "resolve": resolve,
                "resolve_unit": resolve_unit,
                "is_default": default,
            },
        )


def rule_for(channel: str, kind: str) -> ChannelComplaintRule | None:
    rules = ChannelComplaintRule.objects.filter(channel=channel)
    found = rules.filter(kind=kind).first() if kind else None
    return found or rules.filter(is_default=True).first()


def due(start: datetime, count: int, unit: str) -> datetime:
    """`count` hours or days after `start`, or the end (24:00, Beijing time) of the day `count` days
    after the day of `start` ("by the end of the next day" is 1 END_OF_DAY)."""
    if unit == DeadlineUnit.HOURS:
        return start + timedelta(hours=count)
    if unit == DeadlineUnit.DAYS:
        return start + timedelta(days=count)
    tz = timezone.get_default_timezone()
    day = timezone.localtime(start, tz).date() + timedelta(days=count + 1)
    return datetime.combine(day, time.min, tzinfo=tz)


def deadlines(rule: ChannelComplaintRule | None, start: datetime) -> tuple[datetime, datetime]:
    if rule is None:
        first, first_unit, resolve, resolve_unit = FALLBACK
    else:
        first, first_unit = rule.first_reply, rule.first_reply_unit
        resolve, resolve_unit = rule.resolve, rule.resolve_unit
    return due(start, first, first_unit), due(start, resolve, resolve_unit)
