"""Every change to the working calendar goes through these functions."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext

from .models import CalendarDay, CalendarYear
from .schedule import Schedule, parse_schedule

# Years outside this window are almost certainly typos (2207 for 2027).
MIN_YEAR, MAX_YEAR = 2000, 2100


@transaction.atomic
def load_year(
    *, year: int, holidays: list[tuple[date, str]], workdays: list[tuple[date, str]], note: str = ""
) -> CalendarYear:
    """Load a year's full schedule: holidays off, make-up working days (调休) on, and trust the year.

    Loading again replaces the earlier import for that year. A date listed here replaces an
    administrator's single-date correction; corrections for dates not listed are kept.
    """
    _validate_schedule(year=year, holidays=holidays, workdays=workdays)
    # Serialize concurrent loads of the same year on its CalendarYear row.
    calendar_year, _created = CalendarYear.objects.select_for_update().get_or_create(year=year)
    calendar_year.note = note
    calendar_year.save()

    listed = [d for d, _name in holidays] + [d for d, _name in workdays]
    CalendarDay.objects.filter(date__year=year, source=CalendarDay.Source.IMPORT).delete()
    CalendarDay.objects.filter(date__in=listed).delete()
    CalendarDay.objects.bulk_create(
        [
            CalendarDay(date=d, is_workday=False, name=name, source=CalendarDay.Source.IMPORT)
            for d, name in holidays
        ]
        + [
            CalendarDay(date=d, is_workday=True, name=name, source=CalendarDay.Source.IMPORT)
            for d, name in workdays
        ]
    )
    return calendar_year


def load_year_from_text(*, year: int, text: str, note: str = "") -> tuple[CalendarYear, Schedule]:
    """Parse the pasted text format (see ``schedule.py``) and load it with ``load_year``."""
    schedule = parse_schedule(text)
    calendar_year = load_year(year=year, holidays=schedule.holidays, workdays=schedule.workdays, note=note)
    return calendar_year, schedule


def _validate_schedule(*, year: int, holidays, workdays) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValidationError(
            gettext("年份 %(year)s 不在 %(min)d–%(max)d 之间")
            % {"year": year, "min": MIN_YEAR, "max": MAX_YEAR}
        )
    errors = []
    if not holidays:
        errors.append(gettext("%(year)d 年的安排里没有任何节假日；请粘贴完整的全年放假安排") % {"year": year})
    seen: set[date] = set()
    for d, _name in [*holidays, *workdays]:
        if d.year != year:
            errors.append(gettext("%(date)s 不在 %(year)d 年内") % {"date": d.isoformat(), "year": year})
        if d in seen:
            errors.append(gettext("%(date)s 出现了不止一次") % {"date": d.isoformat()})
        seen.add(d)
    for d, _name in workdays:
        if d.weekday() < 5:
            errors.append(
                gettext("%(date)s 是星期一至星期五，本来就是工作日，不必列为调休上班；请检查日期")
                % {"date": d.isoformat()}
            )
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def set_calendar_day(*, day: date, is_workday: bool, name: str = "") -> CalendarDay:
    """An administrator's correction for one date; it wins over every other rule."""
    calendar_day, _created = CalendarDay.objects.update_or_create(
        date=day,
        defaults={"is_workday": is_workday, "name": name, "source": CalendarDay.Source.ADMIN},
    )
    return calendar_day


@transaction.atomic
def clear_calendar_day(*, day: date) -> None:
    """Remove the row for one date, so the loaded year, the package or the weekend rule decides again."""
    CalendarDay.objects.filter(date=day).delete()
