"""Sentences the system stores (why a case is where it is, what happens if nobody acts, a notice to
a user) are kept as what happened: the Chinese source text and the values in it. They are put into
words when read, in the reader's language, so a buyer reading English never sees the Chinese an
agent's session happened to write, and the other way round.

    reason = Sentence(gettext_noop("卖家拒绝退款：%(n)s；转平台审核"), n=note)
    case.stage_reason = reason.as_json()   # {"text": "卖家拒绝退款：%(n)s；转平台审核", "values": {"n": "…"}}
    say(case.stage_reason)                 # "The seller refused: …; passed to platform review"

`gettext_noop` marks the text for `makemessages`; `say` translates it. A value that is itself a
Sentence (a verified fact, a choice's label) is translated too; other values (a person's note, an
amount, an order number) are shown as they are. Text stored before this module existed is a plain
string and is shown as it is.
"""

from collections.abc import Mapping
from typing import Any

from django.db import models
from django.utils import translation
from django.utils.translation import gettext


class Sentence:
    """A source text with its values, rendered in the active language by `str()`."""

    __slots__ = ("text", "values")

    def __init__(self, text: str, **values: Any) -> None:
        self.text = text
        self.values = values

    def __str__(self) -> str:
        translated = gettext(self.text)
        if not self.values:
            return translated
        return translated % {k: str(v) if isinstance(v, Sentence) else v for k, v in self.values.items()}

    def __repr__(self) -> str:
        return f"Sentence({self.text!r}, **{self.values!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sentence) and (self.text, self.values) == (other.text, other.values)

    def __hash__(self) -> int:
        return hash(self.text)

    def as_json(self) -> dict:
        return {
            "text": self.text,
            "values": {k: v.as_json() if isinstance(v, Sentence) else v for k, v in self.values.items()},
        }

    @classmethod
    def from_json(cls, data: Mapping) -> "Sentence":
        values = {
            k: cls.from_json(v) if isinstance(v, Mapping) else v
            for k, v in (data.get("values") or {}).items()
        }
        return cls(data.get("text", ""), **values)


def stored(sentence: "Sentence | str") -> dict | str:
    """What a JSON field keeps for `sentence` (a plain string, someone's own words, stays as it is)."""
    return sentence.as_json() if isinstance(sentence, Sentence) else sentence


def say(data: "Mapping | Sentence | str | None") -> str:
    """A stored sentence in the reader's language; a plain string (someone's own words, or text
    stored before sentences were kept as data) as it is."""
    if not data:
        return ""
    if isinstance(data, Sentence):
        return str(data)
    if isinstance(data, Mapping):
        return str(Sentence.from_json(data))
    return str(data)


def label_of(member: models.Choices) -> Sentence:
    """A choice's label as a sentence (its source text, not the label in the writer's language)."""
    with translation.override(None):
        return Sentence(str(member.label))
