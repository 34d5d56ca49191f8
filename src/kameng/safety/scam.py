"""The scam filter (SPEC §9, issue 16 item 2): is this message one a buyer must be protected from?

Contract for the apps that deliver messages (support chat, email, WeChat, sellers' answers and notes
on refund cases) — safety sits low, so they call it; it never imports them:

    from kameng.safety import scam

    verdict = scam.check(text, sender="seller")    # "seller" | "buyer" | "agent" | "email" | "social"
    verdict.verdict      # "hold" (keep it for review, show the buyer scam.WARNING),
                         # "warn" (deliver, with the warning; for a buyer: ask before sending) or "pass"
    verdict.score        # float, the sum of the matched rules' weights (see below)
    verdict.categories   # ["deposit", "contact", ...] in ScamRule.Category values
    verdict.rules        # tuple of rules.Hit(id, name, category, weight)
    verdict.as_dict()    # {"text", "verdict", "score", "categories", "rules": [names]} (scam_check's line)

    scam.log_hit(verdict, source="support.message", source_id=message.pk)   # no-op for "pass"

Use sender="social" or "email" for any party the platform has not verified. `check` raises
ValueError only for an unknown sender; it reads no more than normalize.MAX_CHARS characters (head
and tail), never raises on odd input (NUL bytes, binary garbage decoded as text, 1 MB pastes) and
touches the database only to notice that rules changed (once per RULES_TTL seconds; edits in this
process are seen at once through a signal). `check(..., classifier=True)` (or
settings.KAMENG_SCAM_CLASSIFIER) adds the optional naive Bayes bonus (kameng.safety.classifier).

Scoring: the rules (ScamRule rows, tuned by admins) add their weights; contact-moving (加我微信, a QQ
number) together with money or secrets adds COMBO_BONUS; a message that is a question or a warning
(question rules: "吗", "是真的"; context rules: "诈骗", "请勿泄露") is multiplied by the sender's
factor; then the sender's thresholds decide (THRESHOLDS: a seller holds from 4, warns from 3). A seller, an e-mail or a social message scoring high is held; what a
buyer is about to send is at most warned about (a code or a card number in it); an agent's message
only when it is extreme. Thresholds can be overridden with settings.KAMENG_SCAM_THRESHOLDS."""

import hashlib
import re
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Max
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _

from . import classifier as nb
from . import rules
from .models import ScamHit, ScamRule

SENDERS = ("seller", "buyer", "agent", "email", "social")
HOLD, WARN, PASS = "hold", "warn", "pass"
THRESHOLDS = {
    # hold: a score at or above it is held (None: never); warn: at or above it is warned about;
    # question / context: the factor for a message that asks about such words (a buyer's "这是真的吗",
    # not a seller's "验证码收到了吗") / that warns about scams ("谨防诈骗", "请勿泄露").
    "seller": {"hold": 4.0, "warn": 3.0, "question": 1.0, "context": 0.3},
    "email": {"hold": 4.0, "warn": 3.0, "question": 1.0, "context": 0.3},
    "social": {"hold": 4.0, "warn": 3.0, "question": 1.0, "context": 0.3},
    "buyer": {"hold": None, "warn": 6.0, "question": 0.2, "context": 0.2},
    "agent": {"hold": None, "warn": 15.0, "question": 0.2, "context": 0.2},
}
COMBO_BONUS = 3.0
RULES_TTL = 5.0
WARNING = _(
    "防骗提醒：卡盟绝不会向您索要密码、短信验证码或银行卡信息，不会要求屏幕共享、贷款或注销账户，"
    "退款从不收取保证金、解冻费或手续费，也不会让您添加私人微信、QQ 或扫码到站外处理。"
)


@dataclass(frozen=True)
class Verdict:
    text: str
    sender: str
    verdict: str  # hold | warn | pass
    score: float
    categories: tuple[str, ...]
    rules: tuple[rules.Hit, ...]

    def as_dict(self) -> dict:
        return {
            "text": self.text,
            "verdict": self.verdict,
            "score": self.score,
            "categories": list(self.categories),
            "rules": [hit.name for hit in self.rules],
        }


class _Cache:
    """The compiled rules of this process, rebuilt when a rule is saved or deleted here (signal) or
    elsewhere (the version, (count, latest updated_at), is compared every RULES_TTL seconds)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ruleset: rules.Ruleset | None = None
        self.version = None
        self.checked_at = 0.0

    def get(self) -> rules.Ruleset:
        now = time.monotonic()
        ruleset = self.ruleset
        if ruleset is not None and now - self.checked_at < RULES_TTL:
            return ruleset
        with self.lock:
            version = tuple(ScamRule.objects.aggregate(n=Count("id"), at=Max("updated_at")).values())
            if self.ruleset is None or version != self.version:
                self.ruleset = rules.build(ScamRule.objects.filter(is_active=True).order_by("id"))
                self.version = version
            self.checked_at = now
            return self.ruleset

    def clear(self) -> None:
        with self.lock:
            self.ruleset = None
            self.version = None


_cache = _Cache()


@receiver(post_save, sender=ScamRule)
@receiver(post_delete, sender=ScamRule)
def _rules_changed(**kwargs) -> None:
    _cache.clear()


def thresholds(sender: str) -> dict:
    table = {**THRESHOLDS, **getattr(settings, "KAMENG_SCAM_THRESHOLDS", {})}
    return table[sender]


def check(
    text: str,
    *,
    sender: str = "seller",
    ruleset: rules.Ruleset | None = None,
    classifier: bool | None = None,
) -> Verdict:
    """The verdict on one message. `ruleset`: rules to use instead of the saved ones (the admin's
    try-it box tries a draft rule with them). `classifier`: add the naive Bayes bonus (default:
    settings.KAMENG_SCAM_CLASSIFIER, off)."""
    if classifier is None:
        classifier = getattr(settings, "KAMENG_SCAM_CLASSIFIER", False)
    if sender not in SENDERS:
        raise ValueError(f"unknown sender {sender!r}")
    limits = thresholds(sender)
    text = text if isinstance(text, str) else str(text or "")
    total, categories, hits = rules.score(
        ruleset or _cache.get(),
        text,
        question_factor=limits["question"],
        context_factor=limits["context"],
        combo_bonus=COMBO_BONUS,
        classifier=nb.bonus if classifier else None,
    )
    if limits["hold"] is not None and total >= limits["hold"]:
        verdict = HOLD
    elif total >= limits["warn"]:
        verdict = WARN
    else:
        verdict = PASS
    return Verdict(text, sender, verdict, total, tuple(categories), tuple(hits))


def current_rules() -> rules.Ruleset:
    return _cache.get()


def forget_rules() -> None:
    """Drop this process's compiled rules (they are rebuilt on the next check). Saving or deleting a
    rule does this by itself; a rolled-back transaction that changed rules does not (tests call it)."""
    _cache.clear()


def excerpt(text: str, length: int = 120) -> str:
    """A short excerpt safe to keep: digit runs (codes, card and phone numbers) masked."""
    short = re.sub(r"\s+", " ", text[: length * 2].replace("\x00", ""))[:length]
    short = short.encode("utf-8", "replace").decode("utf-8")  # lone surrogates cannot be stored
    return re.sub(r"\d{4,}", lambda m: "*" * len(m.group()), short)


def log_hit(verdict: Verdict, *, source: str = "", source_id: object = "") -> ScamHit | None:
    """Keep the record of a held or warned message (its digest, a masked excerpt, the rules and the
    score); nothing for a pass. One INSERT; call it inside the transaction that stores the message."""
    if verdict.verdict == PASS:
        return None
    return ScamHit.objects.create(
        digest=hashlib.sha256(verdict.text.encode("utf-8", "surrogatepass")).hexdigest(),
        excerpt=excerpt(verdict.text),
        sender=verdict.sender,
        verdict=verdict.verdict,
        score=verdict.score,
        categories=list(verdict.categories),
        rule_ids=[hit.id for hit in verdict.rules if hit.id is not None],
        source=str(source)[:40],
        source_id=str(source_id)[:40],
    )
