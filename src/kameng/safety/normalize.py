"""Text reduced to the forms the scam rules match against (SPEC §9: "the filter normalises text
before matching").

Scammers write 威信, V❤信, ｗｅｉｘｉｎ, 保*证*金, 保 证 金, 驗證碼, baozhengjin or 一三八 零零一三 to dodge a
plain word list. `normalize(text, variants=...)` undoes that, in this order:

1. NUL and control characters out, NFKC (full-width letters and digits to half-width), invisible
   characters (zero-width spaces and joiners, soft hyphens, every format character) out;
2. traditional to simplified (OpenCC t2s), lower case;
3. the text is cut into clauses at sentence punctuation (，。！？；, newlines): a negation such as
   "平台不会向您索要验证码" only cancels a match inside its own clause;
4. inside a clause every character that is not a letter, a digit or a CJK ideograph is dropped
   (separators, emoji, symbols), runs of three or more Chinese numerals become digits, and split
   digits are joined (`一三八 零零一三` → `1380013`);
5. variant spellings are replaced by their canonical token (威信/薇信/vx/wx → 微信). The variant table
   is data: ScamRule rows of kind "variant", given to this function by the scorer;
6. the pinyin of the result (pypinyin, no tones) is kept beside it, so "baozhengjin" and 宝证金 both
   read `baozhengjin`.

Only MAX_CHARS characters are looked at (the first and the last half of them): a chat message is far
shorter, and a 1 MB paste must not cost more than a short one."""

import re
import unicodedata
from dataclasses import dataclass

import opencc
from pypinyin import lazy_pinyin

MAX_CHARS = 4000
CLAUSE = re.compile(r"[,，。!！?？;；\n\r]+")
# Characters kept inside a clause: letters, digits and CJK ideographs. Everything else (spaces,
# punctuation used as separators, emoji, symbols) is what evasions put between characters.
DROP = re.compile(r"[^0-9a-z\u3400-\u4dbf\u4e00-\u9fff]+")
CHINESE_NUMERALS = str.maketrans("零〇一二三四五六七八九幺", "001234567891")
NUMERAL_RUN = re.compile(r"[零〇一二三四五六七八九幺]{3,}")
_to_simplified = opencc.OpenCC("t2s")


@dataclass(frozen=True)
class Normalized:
    """What the scorer matches: `plain` (cleaned but with its spaces and punctuation, for links and
    e-mail addresses), `clauses` (each squeezed), `squeezed` (the clauses joined by "|", so a phrase
    never matches across two clauses) and `pinyin` (the pinyin of `squeezed`, also "|"-separated)."""

    plain: str
    clauses: tuple[str, ...]
    squeezed: str
    pinyin: str


def clean(text: str) -> str:
    """Step 1 and 2: the text as a reader sees it, in one width, one script and lower case."""
    text = text or ""
    if len(text) > MAX_CHARS:  # the head and the tail: where a padded message puts its payload
        text = text[: MAX_CHARS // 2] + "\n" + text[-MAX_CHARS // 2 :]
    text = unicodedata.normalize("NFKC", text)
    text = "".join(
        ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf", "Co", "Cs", "Cn")
    )
    return _to_simplified.convert(text).lower()


def squeeze(clause: str, variants: tuple[tuple[str, str], ...] = ()) -> str:
    """Step 4 and 5 for one clause."""
    clause = NUMERAL_RUN.sub(lambda m: m.group().translate(CHINESE_NUMERALS), clause)
    squeezed = DROP.sub("", clause)
    for variant, canonical in variants:
        if variant in squeezed:
            squeezed = squeezed.replace(variant, canonical)
    return squeezed


def normalize(text: str, *, variants: tuple[tuple[str, str], ...] = ()) -> Normalized:
    """`variants`: (spelling, canonical) pairs, longest spelling first (see scam.Ruleset)."""
    plain = clean(text)
    clauses = tuple(c for c in (squeeze(part, variants) for part in CLAUSE.split(plain)) if c)
    squeezed = "|".join(clauses)
    pinyin = "|".join("".join(lazy_pinyin(c, errors="default")) for c in clauses)
    return Normalized(plain=plain, clauses=clauses, squeezed=squeezed, pinyin=pinyin)


def parse_variants(pattern: str) -> tuple[str, list[str]]:
    """A variant rule's pattern: `微信: 威信, 薇信, v信, vx, wx`. Spellings are normalised the same way
    as the text (so `V❤信` written in the rule is stored as `v信`)."""
    canonical, _colon, spellings = pattern.partition(":")
    if not _colon:
        canonical, _colon, spellings = pattern.partition("：")
    canonical = squeeze(clean(canonical))
    words = [squeeze(clean(w)) for w in re.split(r"[,，、\s]+", spellings)]
    return canonical, [w for w in words if w and w != canonical]


def parse_words(pattern: str) -> list[str]:
    """A negation or context rule's pattern: words separated by commas."""
    return [w for w in (squeeze(clean(w)) for w in re.split(r"[,，、]+", pattern)) if w]
