"""The Chinese working calendar (工作日): reads and deadline arithmetic. Nothing here writes.

Which rule decides whether a date is a working day, first match wins:

1. a ``CalendarDay`` row (an administrator's correction, or a day of a loaded year);
2. the date lies in a ``CalendarYear`` an administrator loaded: that schedule is the whole truth for
   the year, so any other date follows the weekend rule (this lets a loaded year correct the package);
3. the ``chinesecalendar`` package, for the years it covers;
4. weekends only (Monday to Friday work). ``calendar_warning()`` tells administrators when this
   fallback is in use for the current or the next year.
"""

from __future__ import annotations

import functools
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
from django.utils import timezone
from django.utils.translation import gettext

from .models import CalendarDay, CalendarYear, DeadlineUnit

# The working calendar is China's, whatever the server's TIME_ZONE says.
SHANGHAI = ZoneInfo("Asia/Shanghai")

# How far around today to probe the package for the years it covers. Wide on purpose: the answer
# comes from probing, this only bounds the search.
_PROBE_BACK = 40
_PROBE_AHEAD = 30


def _weekday_rule(d: date) -> bool:
    return d.weekday() < 5


def _package_is_workday(d: date) -> bool | None:
    """The package's answer, or None for a year it does not know (it raises NotImplementedError)."""
    try:
        return chinese_calendar.is_workday(d)
    except NotImplementedError:
        return None


@functools.cache
def package_years() -> frozenset[int]:
    """The years the installed ``chinesecalendar`` knows, found by asking it about each year."""
    this_year = date.today().year
    return frozenset(
        y
        for y in range(this_year - _PROBE_BACK, this_year + _PROBE_AHEAD + 1)
        if _package_is_workday(date(y, 1, 1)) is not None
    )


class _Calendar:
    """Answers is_workday for many dates with two queries per calendar year touched."""

    def __init__(self) -> None:
        self._overrides: dict[int, dict[date, bool]] = {}
        self._loaded: dict[int, bool] = {}

    def _load(self, year: int) -> None:
        if year not in self._overrides:
            self._overrides[year] = dict(
                CalendarDay.objects.filter(date__year=year).values_list("date", "is_workday")
            )
            self._loaded[year] = CalendarYear.objects.filter(year=year).exists()

    def is_workday(self, d: date) -> bool:
        self._load(d.year)
        override = self._overrides[d.year].get(d)
        if override is not None:
            return override
        if self._loaded[d.year]:
            return _weekday_rule(d)
        from_package = _package_is_workday(d)
        if from_package is not None:
            return from_package
        return _weekday_rule(d)


def is_workday(d: date) -> bool:
    """Whether ``d`` is a working day in China (see the module docstring for the rule order)."""
    if isinstance(d, datetime):
        raise TypeError("is_workday takes a date; convert a datetime with to_local(dt).date()")
    return _Calendar().is_workday(d)


def trusted_years() -> set[int]:
    """Years whose holidays we know: covered by the package, or loaded by an administrator."""
    return set(package_years()) | set(CalendarYear.objects.values_list("year", flat=True))


def untrusted_years_in(start: date, end: date) -> list[int]:
    """Years from ``start`` to ``end`` (inclusive, dates or datetimes) computed by the weekend fallback."""
    trusted = trusted_years()
    return [y for y in range(start.year, end.year + 1) if y not in trusted]


def calendar_warning(now: datetime | None = None) -> str | None:
    """A message for administrators when this year or next year is not trusted, else None."""
    this_year = to_local(now or timezone.now()).year
    missing = untrusted_years_in(date(this_year, 1, 1), date(this_year + 1, 1, 1))
    if not missing:
        return None
    years = gettext("、").join(str(y) for y in missing)
    return gettext(
        "%(years)s 年的法定节假日安排尚未载入，系统暂按“周末休息”计算工作日；"
        "请在管理后台载入国务院公布的 %(years)s 年放假安排。"
    ) % {"years": years}


def to_local(moment: datetime) -> datetime:
    """``moment`` in Beijing time; naive datetimes are refused rather than guessed."""
    if timezone.is_naive(moment):
        raise ValueError("deadline arithmetic needs a timezone-aware datetime")
    return moment.astimezone(SHANGHAI)


def add_hours(start: datetime, hours: int | float) -> datetime:
    """Plain clock time: ``hours`` later, weekends and holidays included."""
    return to_local(start) + timedelta(hours=hours)


def add_working_days(start: datetime, days: int) -> datetime:
    """The moment ``days`` working days after ``start``, counted in Beijing time.

    Rule: the deadline is the same local time of day as ``start`` on the ``days``-th working day
    after the start's date, so exactly ``days`` whole working days are given. A start on a non-working
    day counts as 00:00 of the next working day: a request made on Saturday with 1 working day is due
    at 00:00 on Tuesday (all of Monday given). ``days=0`` returns that effective start.
    """
    if days < 0:
        raise ValueError("days must not be negative")
    local = to_local(start)
    cal = _Calendar()
    day, at = local.date(), local.time()
    if not cal.is_workday(day):
        day, at = _next_workday(cal, day), time(0)
    for _ in range(days):
        day = _next_workday(cal, day)
    return datetime.combine(day, at, tzinfo=SHANGHAI)


def _next_workday(cal: _Calendar, after: date) -> date:
    d = after + timedelta(days=1)
    while not cal.is_workday(d):
        d += timedelta(days=1)
    return d


def deadline(start: datetime, amount: int, unit: str) -> datetime:
    """``add_hours`` or ``add_working_days`` according to ``unit`` ("hours" or "working_days")."""
    if unit == DeadlineUnit.HOURS:
        return add_hours(start, amount)
    if unit == DeadlineUnit.WORKING_DAYS:
        return add_working_days(start, amount)
    raise ValueError(f"unknown deadline unit {unit!r}; expected one of {DeadlineUnit.values}")


def working_days_between(start: date, end: date) -> int:
    """How many working days lie after ``start`` up to and including ``end`` (0 if end <= start).

    For countdowns: ``working_days_between(today, due.date())`` is "还剩 N 个工作日".
    """
    cal = _Calendar()
    count, d = 0, start + timedelta(days=1)
    while d <= end:
        count += cal.is_workday(d)
        d += timedelta(days=1)
    return count
