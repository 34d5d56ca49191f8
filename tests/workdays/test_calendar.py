"""Working days from the package, the weekend fallback and administrators' corrections."""

from datetime import UTC, date, datetime, timedelta

import pytest

from kameng.workdays.calendar import (
    add_hours,
    add_working_days,
    calendar_warning,
    deadline,
    is_workday,
    package_years,
    trusted_years,
    untrusted_years_in,
    working_days_between,
)
from kameng.workdays.services import clear_calendar_day, set_calendar_day

from .conftest import beijing

pytestmark = pytest.mark.django_db


def test_national_day_2026_is_seven_days_off_then_work_resumes():
    # given the package's 2026 schedule
    # when we ask about the National Day week, then 10-01..10-07 are off and 10-08 is a working day
    golden_week = [date(2026, 10, 1) + timedelta(days=i) for i in range(7)]
    assert [is_workday(d) for d in golden_week] == [False] * 7
    assert is_workday(date(2026, 9, 30)) is True
    assert is_workday(date(2026, 10, 8)) is True


def test_make_up_weekend_days_of_2026_are_working_days():
    # given 调休: Saturday 2026-10-10 and Sunday 2026-09-20 are worked for National Day
    saturday, sunday = date(2026, 10, 10), date(2026, 9, 20)
    assert (saturday.weekday(), sunday.weekday()) == (5, 6)
    # then both are working days, while an ordinary Saturday is not
    assert is_workday(saturday) is True
    assert is_workday(sunday) is True
    assert is_workday(date(2026, 10, 17)) is False


def test_three_working_days_across_national_day_land_on_the_make_up_saturday():
    # given a request on Wednesday 2026-09-30 at 10:00, the eve of the holiday
    start = beijing(2026, 9, 30, 10)
    # when it is due in 3 working days
    due = add_working_days(start, 3)
    # then the holiday week is skipped: 10-08 (Thu), 10-09 (Fri), 10-10 (调休 Sat) at the same hour
    assert due == beijing(2026, 10, 10, 10)
    assert working_days_between(date(2026, 9, 30), due.date()) == 3


def test_a_start_on_a_holiday_counts_from_the_next_working_days_midnight():
    # given a request on 2026-10-03 (a holiday) at 15:00
    # when it is due in 1 working day, then all of 10-08 is given: due at 10-09 00:00
    assert add_working_days(beijing(2026, 10, 3, 15), 1) == beijing(2026, 10, 9, 0)
    # and 0 working days means the start of the next working day
    assert add_working_days(beijing(2026, 10, 3, 15), 0) == beijing(2026, 10, 8, 0)


def test_working_days_are_counted_in_beijing_time_not_utc():
    # given 2026-09-30 17:00 UTC, which is already 10-01 01:00 in Beijing (a holiday)
    start = datetime(2026, 9, 30, 17, tzinfo=UTC)
    # then it counts from 10-08 00:00, not from a UTC Wednesday afternoon
    assert add_working_days(start, 1) == beijing(2026, 10, 9, 0)
    # and 02:00 UTC on 09-30 is 10:00 in Beijing, a working morning
    assert add_working_days(datetime(2026, 9, 30, 2, tzinfo=UTC), 1) == beijing(2026, 10, 8, 10)


def test_a_friday_afternoon_is_due_on_monday_afternoon():
    assert add_working_days(beijing(2026, 11, 27, 17, 30), 1) == beijing(2026, 11, 30, 17, 30)


def test_hours_run_on_the_clock_through_holidays():
    assert add_hours(beijing(2026, 10, 1, 10), 48) == beijing(2026, 10, 3, 10)
    assert deadline(beijing(2026, 10, 1, 10), 48, "hours") == beijing(2026, 10, 3, 10)
    assert deadline(beijing(2026, 9, 30, 10), 3, "working_days") == beijing(2026, 10, 10, 10)


def test_bad_inputs_are_refused_rather_than_guessed():
    with pytest.raises(ValueError, match="timezone-aware"):
        add_working_days(datetime(2026, 9, 30, 10), 1)  # naive on purpose
    with pytest.raises(ValueError, match="unknown deadline unit"):
        deadline(beijing(2026, 9, 30, 10), 3, "days")
    with pytest.raises(ValueError):
        add_working_days(beijing(2026, 9, 30, 10), -1)


def test_the_package_years_are_found_by_probing():
    years = package_years()
    assert {2004, 2020, 2026} <= years
    assert 2027 not in years and 2003 not in years
    assert years <= trusted_years()


def test_2027_falls_back_to_weekends_only_and_admins_are_warned(late_2026):
    # given late 2026, with no 2027 schedule in the package or loaded
    # then 2027 answers by the weekend rule without crashing
    assert is_workday(date(2027, 2, 8)) is True  # a Monday
    assert is_workday(date(2027, 2, 6)) is False  # a Saturday
    assert is_workday(date(2027, 1, 1)) is True  # New Year's Day: the fallback cannot know
    assert add_working_days(beijing(2026, 12, 31, 10), 1) == beijing(2027, 1, 1, 10)
    # and the system says which years it does not trust
    assert 2027 not in trusted_years()
    assert untrusted_years_in(date(2026, 1, 1), date(2028, 6, 1)) == [2027, 2028]
    warning = calendar_warning()
    assert warning is not None
    assert "2027 年的法定节假日安排尚未载入" in warning
    assert "周末休息" in warning
    assert "2028" not in warning  # only the current and the next year matter


def test_no_warning_when_this_year_and_next_are_covered():
    assert calendar_warning(now=beijing(2025, 6, 1)) is None
    assert calendar_warning(now=beijing(2026, 6, 1)) is not None


def test_an_administrators_correction_beats_the_package():
    # given the package says 2026-10-08 is a working day and 2026-10-03 is a holiday
    assert is_workday(date(2026, 10, 8)) is True
    # when an administrator corrects both dates
    set_calendar_day(day=date(2026, 10, 8), is_workday=False, name="临时停工")
    set_calendar_day(day=date(2026, 10, 3), is_workday=True, name="临时上班")
    # then the corrections win, and deadlines follow them
    assert is_workday(date(2026, 10, 8)) is False
    assert is_workday(date(2026, 10, 3)) is True
    assert add_working_days(beijing(2026, 9, 30, 10), 2) == beijing(2026, 10, 9, 10)
    # when one correction is removed, then the package decides again
    clear_calendar_day(day=date(2026, 10, 8))
    assert is_workday(date(2026, 10, 8)) is True
