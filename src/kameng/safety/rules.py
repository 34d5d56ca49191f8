"""Scam rules compiled for matching, and the score of one normalised text (no database here: the
rows come from kameng.safety.scam, which caches the compiled set per process).

A rule of kind
- phrase: alternatives separated by "|", normalised like the text (so a phrase written 加我威信 or
  保 证 金 in the admin means the same as 加我微信 / 保证金) and found in the squeezed clauses;
- regex: a Python regular expression tried on the cleaned text (links, addresses: their dots and
  slashes are still there) and on the squeezed clauses (split digits joined); a group named `luhn`
  must pass the bank-card check digit for the match to count;
- pinyin: a regular expression on the toneless pinyin of the squeezed clauses (baozhengjin, weixin);
- variant, negation, question, context: not scored; see normalize.parse_variants / parse_words and
  `score`.

A match counts unless a negation word stands before it in the same clause ("平台不会向您索要验证码",
"请勿透露验证码", "客服不会要求您交保证金")."""

import re
from dataclasses import dataclass

from django.utils.translation import gettext as _
from pypinyin import lazy_pinyin

from .normalize import Normalized, clean, normalize, parse_variants, parse_words, squeeze

SCORED = ("phrase", "regex", "pinyin")
MAX_PATTERN = 2000
# Contact-moving together with money or secrets is the scam's signature: worth more than the sum.
COMBINED_WITH_CONTACT = frozenset({"deposit", "unfreeze", "code", "screen", "loan", "cancel", "other"})


@dataclass(frozen=True)
class CompiledRule:
    id: int | None
    name: str
    category: str
    kind: str
    weight: float
    regex: re.Pattern | None = None
    words: tuple[str, ...] = ()
    variants: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Ruleset:
    scored: tuple[CompiledRule, ...] = ()
    variants: tuple[tuple[str, str], ...] = ()
    negations: tuple[str, ...] = ()
    negations_pinyin: tuple[str, ...] = ()
    questions: tuple[str, ...] = ()
    context: tuple[str, ...] = ()


@dataclass(frozen=True)
class Hit:
    id: int | None
    name: str
    category: str
    weight: float


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def compile_rule(rule, variants: tuple[tuple[str, str], ...] = ()) -> CompiledRule:
    """`rule`: anything with id, name, category, kind, pattern, weight (a ScamRule, a draft from the
    admin's try-it box). Raises ValueError with a readable reason for a pattern that cannot work."""
    pattern = (rule.pattern or "").strip()
    if not pattern:
        raise ValueError(_("规则内容不能为空。"))
    if len(pattern) > MAX_PATTERN:
        raise ValueError(_("规则内容太长。"))
    base = {
        "id": rule.id,
        "name": rule.name,
        "category": rule.category,
        "kind": rule.kind,
        "weight": float(rule.weight or 0),
    }
    if rule.kind == "phrase":
        alternatives = sorted(
            {squeeze(clean(p), variants) for p in pattern.split("|")} - {""}, key=len, reverse=True
        )
        if not alternatives:
            raise ValueError(_("短语规范化后为空（只有符号或空格）。"))
        return CompiledRule(**base, regex=re.compile("|".join(map(re.escape, alternatives))))
    if rule.kind in ("regex", "pinyin"):
        try:
            regex = re.compile(pattern)
        except re.error as error:
            raise ValueError(_("正则表达式有误：%(error)s") % {"error": error}) from error
        if regex.search(""):
            raise ValueError(_("这个正则表达式能匹配空文字，会命中所有消息。"))
        return CompiledRule(**base, regex=regex)
    if rule.kind == "variant":
        canonical, spellings = parse_variants(pattern)
        if not canonical or not spellings:
            raise ValueError(_("同义变体的格式是“规范写法: 变体1, 变体2”。"))
        return CompiledRule(**base, variants=tuple((s, canonical) for s in spellings))
    if rule.kind in ("negation", "question", "context"):
        words = parse_words(pattern)
        if not words:
            raise ValueError(_("请填写至少一个词，用逗号分隔。"))
        return CompiledRule(**base, words=tuple(words))
    raise ValueError(_("未知的规则类型。"))


def build(rules) -> Ruleset:
    """Compile active rows into a Ruleset. Variants first, since phrases are normalised with them. A
    row that does not compile is skipped (the admin refuses to save one; a migration could not)."""
    variants: list[tuple[str, str]] = []
    negations: list[str] = []
    questions: list[str] = []
    context: list[str] = []
    rules = list(rules)
    for rule in rules:
        if rule.kind == "variant":
            try:
                variants.extend(compile_rule(rule).variants)
            except ValueError:
                continue
    variants.sort(key=lambda pair: len(pair[0]), reverse=True)
    frozen_variants = tuple(variants)
    scored = []
    for rule in rules:
        if rule.kind == "variant":
            continue
        try:
            compiled = compile_rule(rule, frozen_variants)
        except ValueError:
            continue
        if rule.kind == "negation":
            negations.extend(compiled.words)
        elif rule.kind == "question":
            questions.extend(compiled.words)
        elif rule.kind == "context":
            context.extend(compiled.words)
        else:
            scored.append(compiled)
    return Ruleset(
        scored=tuple(scored),
        variants=frozen_variants,
        negations=tuple(negations),
        negations_pinyin=tuple("".join(lazy_pinyin(w)) for w in negations),
        questions=tuple(questions),
        context=tuple(context),
    )


def _negated(form: str, start: int, words: tuple[str, ...], stops: str) -> bool:
    clause_start = max(form.rfind(stop, 0, start) for stop in stops) + 1
    before = form[clause_start:start]
    return any(word in before for word in words)


def _matches(rule: CompiledRule, text: Normalized, ruleset: Ruleset) -> bool:
    if rule.kind == "pinyin":
        forms = [(text.pinyin, ruleset.negations_pinyin, "|")]
    elif rule.kind == "regex":
        forms = [(text.plain, ruleset.negations, ",。!?;\n"), (text.squeezed, ruleset.negations, "|")]
    else:
        forms = [(text.squeezed, ruleset.negations, "|")]
    for form, negations, stops in forms:
        for n, match in enumerate(rule.regex.finditer(form)):
            if n >= 20:
                break
            luhn = match.groupdict().get("luhn")
            if luhn is not None and not luhn_ok(re.sub(r"\D", "", luhn)):
                continue
            if not _negated(form, match.start(), negations, stops):
                return True
    return False


def score(
    ruleset: Ruleset,
    raw: str,
    *,
    question_factor: float,
    context_factor: float,
    combo_bonus: float,
    classifier=None,
):
    """(score, categories, hits) of one text under `ruleset`. A text with a question word is
    multiplied by `question_factor`, one with a warning word by `context_factor` (the smaller one
    when it has both). `classifier`: an optional function of the squeezed text giving a bonus."""
    text = normalize(raw, variants=ruleset.variants)
    hits = [
        Hit(rule.id, rule.name, rule.category, rule.weight)
        for rule in ruleset.scored
        if _matches(rule, text, ruleset)
    ]
    if classifier is not None:
        bonus = classifier(text.squeezed)
        if bonus >= 0.5:
            hits.append(Hit(None, "分类器", "other", bonus))
    total = sum(hit.weight for hit in hits)
    categories = list(dict.fromkeys(hit.category for hit in hits if hit.weight > 0 and hit.id is not None))
    if "contact" in categories and COMBINED_WITH_CONTACT.intersection(categories):
        total += combo_bonus
    if total > 0:
        factors = [1.0]
        if any(word in text.squeezed for word in ruleset.questions):
            factors.append(question_factor)
        if any(word in text.squeezed for word in ruleset.context):
            factors.append(context_factor)
        total *= min(factors)
    return round(float(max(total, 0.0)), 2), categories, hits


__all__ = ["CompiledRule", "Hit", "Ruleset", "build", "compile_rule", "luhn_ok", "normalize", "score"]
