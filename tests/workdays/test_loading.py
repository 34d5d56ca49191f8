"""An administrator loads a year's schedule; the parser reports bad lines by number."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from kameng.workdays.calendar import add_working_days, calendar_warning, is_workday, trusted_years
from kameng.workdays.models import CalendarDay, CalendarYear
from kameng.workdays.schedule import parse_schedule
from kameng.workdays.services import load_year, load_year_from_text, set_calendar_day

from .conftest import SCHEDULE_2027, beijing

pytestmark = pytest.mark.django_db


def test_loading_2027_makes_it_trusted_and_changes_the_answers(late_2026):
    # given 2027 on the weekend fallback: Friday 02-05 plus 1 working day is Monday 02-08
    assert add_working_days(beijing(2027, 2, 5, 9), 1) == beijing(2027, 2, 8, 9)
    assert calendar_warning() is not None
    # when an administrator loads 2027's schedule
    calendar_year, schedule = load_year_from_text(year=2027, text=SCHEDULE_2027, note="测试")
    # then 2027 is trusted, the warning is gone, and the holiday and 调休 are applied
    assert (len(schedule.holidays), len(schedule.workdays)) == (8, 2)
    assert calendar_year.note == "测试"
    assert 2027 in trusted_years()
    assert calendar_warning() is None
    assert is_workday(date(2027, 2, 8)) is False
    assert is_workday(date(2027, 2, 20)) is True  # a Saturday worked
    assert is_workday(date(2027, 1, 1)) is False
    assert add_working_days(beijing(2027, 2, 5, 9), 1) == beijing(2027, 2, 15, 9)
    assert set(CalendarDay.objects.values_list("source", flat=True)) == {"import"}


def test_loading_again_replaces_the_import_but_keeps_other_corrections():
    # given 2027 loaded, and an administrator's correction for a date the schedule does not list
    load_year_from_text(year=2027, text=SCHEDULE_2027)
    set_calendar_day(day=date(2027, 3, 1), is_workday=False, name="停电")
    # when a schedule without 02-08 is loaded
    load_year(year=2027, holidays=[(date(2027, 1, 1), "元旦")], workdays=[])
    # then 02-08 is a working day again, the correction stays, and the year is loaded once
    assert is_workday(date(2027, 2, 8)) is True
    assert is_workday(date(2027, 3, 1)) is False
    assert CalendarYear.objects.filter(year=2027).count() == 1
    assert CalendarDay.objects.filter(source="import").count() == 1


def test_a_loaded_year_is_the_whole_truth_even_where_the_package_knows_the_year():
    # given the package puts 2026-10-01 (a Thursday) off
    assert is_workday(date(2026, 10, 1)) is False
    # when an administrator loads a 2026 schedule that has only New Year's Day
    load_year(year=2026, holidays=[(date(2026, 1, 1), "元旦")], workdays=[])
    # then the loaded schedule decides: 10-01 is an ordinary Thursday
    assert is_workday(date(2026, 10, 1)) is True
    assert is_workday(date(2026, 1, 1)) is False


@pytest.mark.parametrize(
    ("holidays", "workdays", "expected"),
    [
        ([(date(2028, 1, 1), "元旦")], [], "2028-01-01 不在 2027 年内"),
        ([(date(2027, 1, 1), "元旦"), (date(2027, 1, 1), "元旦")], [], "2027-01-01 出现了不止一次"),
        ([(date(2027, 2, 20), "春节")], [(date(2027, 2, 20), "调休")], "2027-02-20 出现了不止一次"),
        ([(date(2027, 1, 1), "元旦")], [(date(2027, 2, 8), "调休")], "2027-02-08 是星期一至星期五"),
        ([], [(date(2027, 2, 20), "调休")], "没有任何节假日"),
    ],
)
def test_a_bad_schedule_is_refused_in_chinese_and_nothing_is_written(holidays, workdays, expected):
    with pytest.raises(ValidationError) as refused:
        load_year(year=2027, holidays=holidays, workdays=workdays)
    assert any(expected in message for message in refused.value.messages)
    assert not CalendarYear.objects.exists()
    assert not CalendarDay.objects.exists()


def test_an_implausible_year_is_refused():
    with pytest.raises(ValidationError, match="不在 2000–2100 之间"):
        load_year(year=2207, holidays=[(date(2207, 1, 1), "元旦")], workdays=[])


def test_the_parser_reads_holidays_and_make_up_days_and_ignores_comments():
    schedule = parse_schedule(
        "# comment\n\n2027-01-01 holiday 元旦\n2027-01-30  workday  春节 调休\n2027-02-06 休\n2027-02-20 班 # sat\n"
    )
    assert schedule.holidays == [(date(2027, 1, 1), "元旦"), (date(2027, 2, 6), "")]
    assert schedule.workdays == [(date(2027, 1, 30), "春节 调休"), (date(2027, 2, 20), "")]


def test_the_parser_reports_every_bad_line_with_its_number():
    text = "# 2027\n2027-01-01 holiday 元旦\n2027-13-01 holiday 坏日期\n\n2027-02-07 rest 春节\n2027-02-08\n"
    with pytest.raises(ValidationError) as refused:
        parse_schedule(text)
    messages = refused.value.messages
    assert len(messages) == 3
    assert messages[0].startswith("第 3 行：") and "2027-13-01" in messages[0]
    assert messages[1].startswith("第 5 行：") and "rest" in messages[1]
    assert messages[2].startswith("第 6 行：")
