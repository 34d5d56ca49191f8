"""The case's timeline in words: one sentence per event kind, in the reader's language, from the
event's stored data (the refund pages, the evidence bundle and the API all read it from here)."""

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from kameng.evidence.models import Event
from kameng.sentences import say

from . import policy
from .models import Demand, EventKind, Holder, Reason, RefundCase, RefundTo, SellerAnswer, Stage


def yuan(cents) -> str:
    if cents in (None, ""):
        return ""
    cents = int(cents)
    return f"¥{cents // 100}.{cents % 100:02d}"


def stage_label(value) -> str:
    return label_of_choice(Stage, value)


def local(value) -> str:
    dt = parse_datetime(value) if isinstance(value, str) else value
    return timezone.localtime(dt).strftime("%Y-%m-%d %H:%M") if dt else ""


def item_label(case: RefundCase, code: str) -> str:
    for item in policy.evidence_items(case.reason, case.order.kind):
        if item["code"] == code:
            return _(item["label"])
    return {"material": _("补充材料"), "seller_evidence": _("卖家证据"), "other": _("其他材料")}.get(
        code, code
    )


def label_of_choice(choices, value) -> str:
    return str(choices(value).label) if value in choices.values else str(value or "")


def _submitted(d: dict, case: RefundCase) -> str:
    text = _("提交退款申请：%(r)s，诉求 %(d)s %(a)s") % {
        "r": label_of_choice(Reason, d.get("reason")),
        "d": label_of_choice(Demand, d.get("demand")),
        "a": yuan(d.get("amount")) if d.get("demand") != Demand.REPLACEMENT else "",
    }
    if d.get("by_system"):
        text += _("（供应商返回充值失败，系统代买家提交）")
    elif d.get("on_behalf"):
        text += _("（客服代为提交，渠道：%(c)s）") % {"c": d.get("channel", "")}
    return text


def _stage_changed(d: dict, case: RefundCase) -> str:
    text = _("%(f)s → %(t)s") % {"f": stage_label(d.get("from")), "t": stage_label(d.get("to"))}
    if d.get("reason"):
        text += _("：%(r)s") % {"r": say(d["reason"])}
    if d.get("deadline"):
        text += _("（时限 %(t)s）") % {"t": local(d["deadline"])}
    return text


def _decision(d: dict, case: RefundCase) -> str:
    if d.get("decision") == "for_seller":
        return _("处理结果：卖家申诉成立，平台补偿卖家 %(a)s") % {"a": yuan(d.get("amount"))}
    text = _("处理结果：%(s)s") % {"s": stage_label(d.get("decision"))}
    return text + (" " + yuan(d["amount"]) if d.get("amount") else "")


def _payout(d: dict, case: RefundCase) -> str:
    where = _("平台余额") if d.get("method") == RefundTo.BALANCE else _("原支付方式")
    return _("退款 %(a)s 已发往%(w)s") % {"a": yuan(d.get("amount")), "w": where}


def _seller_answer(d: dict, case: RefundCase) -> str:
    texts = {
        SellerAnswer.AGREE: _("卖家同意退款"),
        SellerAnswer.REFUSE: _("卖家拒绝退款"),
        SellerAnswer.PARTIAL: _("卖家提出部分退款 %(a)s") % {"a": yuan(d.get("amount"))},
        SellerAnswer.REPLACEMENT: _("卖家提出更换商品（补发）"),
    }
    text = texts.get(d.get("answer"), _("卖家答复"))
    if d.get("held"):  # the scam filter held the note: the buyer is told why, staff read it on their page
        return text + _(
            "。卖家留言含有平台绝不会提出的要求（如交保证金、加私人联系方式），已被拦截，等待平台审核"
        )
    return text + (_("：%(n)s") % {"n": d["note"]} if d.get("note") else "")


def _finance(d: dict, case: RefundCase) -> str:
    text = _("财务复核通过") if d.get("approve") else _("财务退回审核")
    return text + (_("：%(n)s") % {"n": d["note"]} if d.get("note") else "")


def _follow_up(d: dict, case: RefundCase) -> str:
    to = label_of_choice(Holder, d.get("holder")) if d.get("holder") in Holder.values else ""
    text = _("买家催促处理（当前处理方：%(h)s）") % {"h": to}
    if d.get("reminded"):
        return text + _("，已提醒 %(n)d 人") % {"n": d["reminded"]}
    if "reminded" in d:
        return text + _("，系统处理中，无需人工提醒")
    return text


# One sentence per event kind, in the reader's language, from the event's stored data.
SENTENCES = {
    EventKind.SUBMITTED: _submitted,
    EventKind.EVIDENCE_ADDED: lambda d, case: (
        _("上传材料“%(n)s”（%(i)s）") % {"n": d.get("name", ""), "i": item_label(case, d.get("item", ""))}
    ),
    EventKind.STAGE_CHANGED: _stage_changed,
    EventKind.VERIFIED: lambda d, case: _("系统核验：%(f)s") % {"f": say(d.get("fact"))},
    EventKind.WAITING_SUPPLIER: lambda d, case: (
        _("正在向供应商查询结果，最晚 %(t)s 有结论") % {"t": local(d.get("deadline"))}
    ),
    EventKind.DECISION: _decision,
    EventKind.PAYOUT: _payout,
    EventKind.GATEWAY_REFUNDED: lambda d, case: (
        _("原路退款 %(a)s 已完成（退款单号 %(n)s）")
        % {"a": yuan(d.get("amount")), "n": d.get("refund_no", "")}
    ),
    EventKind.SELLER_ANSWER: _seller_answer,
    EventKind.BUYER_ANSWER_OFFER: lambda d, case: (
        _("买家接受了卖家的方案") if d.get("accept") else _("买家拒绝了卖家的方案，转平台审核")
    ),
    EventKind.MATERIAL_ADDED: lambda d, case: (
        _("补充说明：%(n)s") % {"n": d["note"]} if d.get("note") else _("补充了材料")
    ),
    EventKind.CLAIMED: lambda d, case: _("认领了该申请，由其负责处理"),
    EventKind.TRANSFERRED: lambda d, case: (
        _("转交%(t)s：%(r)s") % {"t": label_of_choice(Holder, d.get("to")), "r": d.get("reason", "")}
    ),
    EventKind.FINANCE_DECISION: _finance,
    EventKind.FOLLOW_UP: _follow_up,
    EventKind.DEADLINE_PASSED: lambda d, case: (
        _("处理时限已到（%(t)s），系统按规则自动处理") % {"t": local(d.get("due"))}
    ),
    EventKind.ESCALATED: lambda d, case: (
        _("已升级至客服主管督办，新时限 %(t)s") % {"t": local(d.get("deadline"))}
    ),
    EventKind.APPEAL_WINDOW_CLOSED: lambda d, case: _("申诉期已过，申请结束"),
    EventKind.COMPLAINED: lambda d, case: (
        (_("买家投诉处理过程") if d.get("source") == "buyer" else _("平台逾期或未兑现承诺，系统自动登记投诉"))
        + _("，客服主管须在 %(t)s 前答复") % {"t": local(d.get("due"))}
    ),
    EventKind.COMPLAINT_ANSWERED: lambda d, case: _("主管答复投诉：%(a)s") % {"a": d.get("answer", "")},
    EventKind.CHANNEL_COMPLAINT: lambda d, case: (
        _("买家向%(c)s投诉（投诉单号 %(n)s），诉求 %(a)s")
        % {
            "c": _(d["channel_label"]) if d.get("channel_label") else "",
            "n": d.get("complaint_id", ""),
            "a": yuan(d.get("amount")),
        }
    ),
}


def event_sentence(e: Event, case: RefundCase) -> str:
    sentence = SENTENCES.get(e.kind)
    return sentence(e.data or {}, case) if sentence else e.kind
