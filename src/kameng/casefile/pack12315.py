"""The 12315 pack (SPEC §10, issue 16 item 7): when the platform's own route is exhausted, the buyer
gets a complaint ready for the national consumer complaint platform, written from the case, with
every field a complaint there must have, and the evidence bundle to attach.

The route is exhausted when the case was rejected and the appeal was decided or its window closed,
or when the platform missed its own deadline (a complaint it raised by itself says so)."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from kameng.evidence.models import Event
from kameng.refunds import selectors as refunds
from kameng.refunds.models import EventKind, RefundCase, Stage
from kameng.support.models import Commitment

from .models import Complaint

LIMIT = timedelta(days=3 * 365)  # complaints older than 3 years from when the harm was known


@dataclass(frozen=True)
class Pack:
    ready: bool
    why_not: str
    text: str
    limit_until: datetime | None


def exhausted(case: RefundCase) -> str:
    """Why the platform's route is over for `case` ("" when it is not)."""
    kinds = set(Event.objects.filter(stream=case.stream).values_list("kind", flat=True))
    if case.stage == Stage.REJECTED and (case.appealed_at or EventKind.APPEAL_WINDOW_CLOSED in kinds):
        return _("平台驳回了退款申请，申诉也已处理完毕（或申诉期已过）")
    if Complaint.objects.filter(case=case, source=Complaint.Source.DEADLINE).exists():
        return _("平台未在承诺的时限内处理")
    return ""


def build(case: RefundCase) -> Pack:
    reason = exhausted(case)
    known = case.created_at
    limit_until = known + LIMIT
    if not reason:
        return Pack(
            ready=False,
            why_not=_(
                "平台内的途径还没有走完：请先等待处理结果；被驳回可以申诉，处理不满意可以投诉。"
                "申诉被驳回或平台逾期后，这里会生成 12315 投诉材料。"
            ),
            text="",
            limit_until=limit_until,
        )
    return Pack(ready=True, why_not="", text=_text(case, reason, limit_until), limit_until=limit_until)


def _text(case: RefundCase, reason: str, limit_until: datetime) -> str:
    order, buyer, seller = case.order, case.buyer, case.seller
    missing = _("（请补充）")
    tried = [
        f"- {timezone.localtime(item['at']):%Y-%m-%d %H:%M} {item['actor']}：{item['text']}"
        for item in refunds.timeline(case, viewer_is_buyer=True)
    ]
    broken = [
        f"- {c.text}（{_('最晚')} {timezone.localtime(c.due_at):%Y-%m-%d %H:%M}）"
        for c in Commitment.objects.filter(conversation__order_id=order.pk, state=Commitment.State.MISSED)
    ]
    broken += [
        f"- {c.text}"
        for c in Complaint.objects.filter(case=case, source=Complaint.Source.DEADLINE).order_by("created_at")
    ]
    clauses = sorted(
        {
            e
            for e in Event.objects.filter(stream=case.stream)
            .exclude(clause="")
            .values_list("clause", flat=True)
        }
    )
    lines = [
        _("12315 消费者投诉材料（由卡盟根据退款申请 #%(id)d 生成，请核对后提交）") % {"id": case.pk},
        "",
        _("一、投诉人"),
        f"{_('姓名')}：{buyer.get_full_name() or buyer.display_name or missing}",
        f"{_('电话')}：{buyer.phone or missing}",
        f"{_('地址')}：{missing}",
        "",
        _("二、被投诉人"),
        f"{_('平台')}：{settings.PLATFORM_NAME}，{_('地址')}：{settings.PLATFORM_ADDRESS}",
        f"{_('卖家')}：{seller.name}，{_('地址')}：{seller.address or missing}，{_('电话')}：{seller.contact_phone or missing}",
        "",
        _("三、投诉请求"),
        _("退还 ¥%(a)s（%(d)s）。")
        % {"a": f"{case.amount_requested / 100:.2f}", "d": case.get_demand_display()},
        "",
        _("四、事实与理由"),
        _("订单 %(no)s，商品“%(p)s”，金额 ¥%(a)s，下单时间 %(t)s。")
        % {
            "no": order.no,
            "p": order.product.name,
            "a": f"{order.amount / 100:.2f}",
            "t": f"{timezone.localtime(order.created_at):%Y-%m-%d %H:%M}",
        },
        _("退款原因：%(r)s。%(s)s")
        % {"r": case.get_reason_display(), "s": case.statement or case.description},
        _("平台内已尝试的途径：") + reason + _("。经过如下："),
        *tried,
    ]
    if broken:
        lines += [_("未兑现的承诺与逾期："), *broken]
    lines += [
        "",
        _("五、依据"),
        _("《消费者权益保护法》第二十五条、第五十三条；《电子商务法》第五十一条、第五十九条。"),
        *[f"- {refunds.clause_label(ref)}" for ref in clauses],
        "",
        _("六、证据"),
        _(
            "附件：卡盟证据包（退款申请页“下载证据包”），内含处理经过、全部沟通记录、付款与交付记录、引用条款及 SHA-256 清单；可用其中说明的离线脚本核验。"
        ),
        "",
        _("时效：12315 不受理自知道权益受损之日起超过 3 年的投诉。本案请在 %(d)s 前提交。")
        % {"d": f"{timezone.localtime(limit_until):%Y-%m-%d}"},
    ]
    return "\n".join(str(line) for line in lines)
