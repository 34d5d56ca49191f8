"""The plain-text format an administrator pastes to load a year's holiday schedule.

One date per line: ``2027-01-01 holiday 元旦`` or ``2027-02-07 workday 春节调休`` (``休`` and ``班``
are accepted too; the name is optional). Blank lines and ``#`` comments are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.core.exceptions import ValidationError
from django.utils.translation import gettext

HOLIDAY_WORDS = {"holiday", "休"}
WORKDAY_WORDS = {"workday", "班"}


@dataclass
class Schedule:
    holidays: list[tuple[date, str]] = field(default_factory=list)
    workdays: list[tuple[date, str]] = field(default_factory=list)


def parse_schedule(text: str) -> Schedule:
    """Parse the text format; every bad line is reported at once as "第 N 行：…" in a ValidationError."""
    schedule, errors = Schedule(), []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split(None, 2)
        if len(parts) < 2:
            errors.append(
                gettext("第 %(n)d 行：应为“日期 holiday|workday 名称”，例如“2027-01-01 holiday 元旦”")
                % {"n": number}
            )
            continue
        try:
            day = date.fromisoformat(parts[0])
        except ValueError:
            errors.append(
                gettext("第 %(n)d 行：“%(text)s”不是 YYYY-MM-DD 格式的日期") % {"n": number, "text": parts[0]}
            )
            continue
        kind, name = parts[1].lower(), parts[2].strip() if len(parts) == 3 else ""
        if kind in HOLIDAY_WORDS:
            schedule.holidays.append((day, name))
        elif kind in WORKDAY_WORDS:
            schedule.workdays.append((day, name))
        else:
            errors.append(
                gettext("第 %(n)d 行：“%(text)s”应为 holiday（休）或 workday（班）")
                % {"n": number, "text": parts[1]}
            )
    if errors:
        raise ValidationError(errors)
    return schedule
