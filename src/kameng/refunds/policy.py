"""Clauses and evidence rules are data; these helpers read the current version."""

import time
from enum import IntEnum

from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from kameng.catalog.hooks import RefundTerm

from .models import Clause, EvidenceRule


class ClauseNo(IntEnum):
    """The clauses of 《虚拟商品退款条款》 by number, as the engine cites them."""

    REFUND_ROUTE = 1  # 退款去向与安全
    DUPLICATE_PAYMENT = 2  # 重复支付
    NOT_RECEIVED = 3  # 未发货/未到账
    UNOPENED_KEY = 4  # 未查看卡密
    CUSTOM_SERVICE = 5  # 定制服务 (and the review period of other cases)
    SELLER_ANSWER = 6  # 卖家答复时限
    MATERIAL = 7  # 补充材料
    LARGE_AMOUNT = 8  # 大额复核
    COMPLAINT = 9  # 投诉处理
    APPEAL = 10  # 申诉
    INVALID_KEY = 11  # 卡密无效


DEFAULT_CLAUSES = [
    (
        1,
        gettext_noop("退款去向与安全"),
        gettext_noop(
            "退款只退回原支付方式或平台余额。退款不向买家收取任何手续费、保证金或“解冻费”；"
            "平台任何人员都不会索要密码、短信验证码，也不会要求屏幕共享。"
        ),
        {},
    ),
    (
        2,
        gettext_noop("重复支付"),
        gettext_noop("同一订单重复支付的款项，系统在 1 小时内全额自动退回。"),
        {"hours": 1},
    ),
    (3, gettext_noop("未发货/未到账"), gettext_noop("商品未发货或未到账的，24 小时内退款。"), {"hours": 24}),
    (
        4,
        gettext_noop("未查看卡密"),
        gettext_noop("卡密从未被查看且未被兑换的，7 天内可申请全额退款。"),
        {"days": 7, "max_replacements_per_order": 1},
    ),
    (
        5,
        gettext_noop("定制服务"),
        gettext_noop("定制服务的争议，平台根据双方证据在 3 至 7 个工作日内作出决定。"),
        {"working_days": 3, "max_working_days": 7, "other_review_hours": 24},
    ),
    (
        6,
        gettext_noop("卖家答复时限"),
        gettext_noop("卖家应在 48 小时内答复退款申请；逾期未答复的，系统自动同意退款。"),
        {"hours": 48},
    ),
    (
        7,
        gettext_noop("补充材料"),
        gettext_noop("需要补充材料时，买家有 72 小时提交；其间审核计时暂停；逾期未提交的，按现有材料处理。"),
        {"hours": 72},
    ),
    (
        8,
        gettext_noop("大额复核"),
        gettext_noop("退款金额超过 500 元的，需财务在 1 个工作日内二次审核。"),
        {"threshold": 500_00, "working_days": 1},
    ),
    (
        9,
        gettext_noop("投诉处理"),
        gettext_noop("对处理结果的投诉，由客服主管在 2 个工作日内答复。"),
        {"working_days": 2},
    ),
    (10, gettext_noop("申诉"), gettext_noop("退款申请被驳回的，买家可在 7 天内申诉。"), {"days": 7}),
    (
        11,
        gettext_noop("卡密无效"),
        gettext_noop(
            "已查看的卡密无法使用，经供应商确认未被兑换或所属批次有问题的，平台立即补发；"
            "无库存或买家要求退款的，立即全额退款。同一订单自动补发以 1 次为限。"
        ),
        {"max_replacements_per_order": 1},
    ),
]


# The clauses a buyer reads and accepts before buying goods of each kind (the product page and
# checkout show them; the order records their versions, and its cases cite those versions).
TERMS_BY_KIND = {
    "card_key": (ClauseNo.UNOPENED_KEY, ClauseNo.INVALID_KEY),
    "direct_topup": (ClauseNo.NOT_RECEIVED,),
    "activation": (ClauseNo.NOT_RECEIVED,),
    "custom_service": (ClauseNo.CUSTOM_SERVICE,),
}


def basis_clause(reason: str, kind: str) -> ClauseNo:
    """The clause a claim rests on when the system's own check did not settle it."""
    if reason == "duplicate_payment":
        return ClauseNo.DUPLICATE_PAYMENT
    if reason == "invalid_key" and kind == "card_key":
        return ClauseNo.INVALID_KEY
    if kind == "custom_service":
        return ClauseNo.CUSTOM_SERVICE
    return ClauseNo.NOT_RECEIVED


DEFAULT_EVIDENCE = [
    ("not_received", "", [], gettext_noop("系统核对发货记录，无需提供材料")),
    ("duplicate_payment", "", [], gettext_noop("系统核对支付记录，无需提供材料")),
    ("invalid_key", "card_key", [{"code": "redeem_error", "label": gettext_noop("兑换失败的截图")}], ""),
    (
        "not_working",
        "activation",
        [{"code": "member_center", "label": gettext_noop("会员中心/账号页面显示未生效的截图")}],
        "",
    ),
    ("not_working", "", [{"code": "problem_proof", "label": gettext_noop("功能异常的截图或录屏")}], ""),
    (
        "not_as_described",
        "custom_service",
        [
            {"code": "seller_promise", "label": gettext_noop("卖家的承诺（聊天记录或商品页截图）")},
            {"code": "shortfall_proof", "label": gettext_noop("未达标的证明（如查重报告）")},
        ],
        "",
    ),
    ("not_as_described", "", [{"code": "shortfall_proof", "label": gettext_noop("与描述不符的证明")}], ""),
    ("other", "", [], gettext_noop("请在描述中说明情况，可附上材料")),
]


# Every refund reads several clauses and a checklist; they change a few times a year. Each process
# keeps them for CACHE_SECONDS (so another process sees an admin's edit within that time) and drops
# them at once when this process saves a clause or rule.
CACHE_SECONDS = 5.0
_cache: dict = {}


def clear_cache(**_kwargs) -> None:
    _cache.clear()


def _current_clauses() -> dict[int, Clause]:
    entry = _cache.get("clauses")
    if entry is None or time.monotonic() - entry[0] > CACHE_SECONDS:
        entry = (time.monotonic(), {c.number: c for c in Clause.objects.filter(is_current=True)})
        _cache["clauses"] = entry
    return entry[1]


def _rules() -> dict[tuple[str, str], EvidenceRule]:
    entry = _cache.get("rules")
    if entry is None or time.monotonic() - entry[0] > CACHE_SECONDS:
        entry = (time.monotonic(), {(r.reason, r.kind): r for r in EvidenceRule.objects.all()})
        _cache["rules"] = entry
    return entry[1]


def clause(number: int) -> Clause:
    found = _current_clauses().get(number)
    if found is None:  # an admin deleted it: fall back to the default text rather than fail a refund
        n, title, body, params = DEFAULT_CLAUSES[number - 1]
        found = Clause(number=n, version=0, title=title, body=body, params=params)
    return found


def clause_version(number: int, version: int) -> Clause | None:
    """A given version of a clause (current or not), or None if there is no such row."""
    key = ("version", number, version)
    entry = _cache.get(key)
    if entry is None or time.monotonic() - entry[0] > CACHE_SECONDS:
        entry = (time.monotonic(), Clause.objects.filter(number=number, version=version).first())
        _cache[key] = entry
    return entry[1]


def clause_for(number: int, order) -> Clause:
    """The clause a case on `order` cites: the version the buyer accepted when buying, if the order
    recorded one for that clause and it still exists; otherwise the current version."""
    for term in order.accepted_terms or []:
        if term.get("number") == int(number) and isinstance(term.get("version"), int):
            found = clause_version(int(number), term["version"])
            if found is not None:
                return found
    return clause(number)


def terms_for_kind(kind: str) -> list[RefundTerm]:
    """The catalog.hooks answer: the current clauses a buyer of `kind` accepts."""
    return [
        RefundTerm(number=c.number, version=c.version, title=c.title, body=c.body)
        for c in (clause(n) for n in TERMS_BY_KIND.get(kind, ()))
    ]


def clause_exists(number) -> bool:
    return isinstance(number, int) and (number in _current_clauses() or 1 <= number <= len(DEFAULT_CLAUSES))


def param(number: int, name: str, default=None):
    return clause(number).params.get(name, default)


def evidence_items(reason: str, kind: str) -> list[dict]:
    rules = _rules()
    rule = rules.get((reason, kind)) or rules.get((reason, ""))
    return list(rule.items) if rule else []


def checklist_text(reason: str, kind: str) -> str:
    items = evidence_items(reason, kind)
    if not items:
        return _("无需上传材料：系统将核对自己的记录。")
    return _("；").join(_(item["label"]) for item in items)


for _model in (Clause, EvidenceRule):
    post_save.connect(clear_cache, sender=_model, dispatch_uid=f"policy-cache-save-{_model.__name__}")
    post_delete.connect(clear_cache, sender=_model, dispatch_uid=f"policy-cache-delete-{_model.__name__}")
