"""`manage.py load_calendar_year YEAR FILE` loads through the same parser and service."""

import subprocess
import sys
from datetime import date
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from kameng.workdays.calendar import is_workday
from kameng.workdays.models import CalendarYear

from .conftest import SCHEDULE_2027

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def test_the_command_loads_a_year_and_prints_one_line(tmp_path):
    # given the schedule in a file
    path = tmp_path / "2027.txt"
    path.write_text(SCHEDULE_2027, encoding="utf-8")
    out = StringIO()
    # when the command runs
    call_command("load_calendar_year", "2027", str(path), stdout=out)
    # then it says what it loaded, and 2027 is trusted
    assert out.getvalue() == "loaded 2027: 8 holidays, 2 make-up workdays\n"
    assert CalendarYear.objects.filter(year=2027).exists()
    assert is_workday(date(2027, 2, 8)) is False


def test_the_command_refuses_a_bad_file_with_the_line_number(tmp_path):
    path = tmp_path / "2027.txt"
    path.write_text("2027-01-01 holiday 元旦\n2027-02-07 maybe 春节\n", encoding="utf-8")
    with pytest.raises(CommandError, match="第 2 行"):
        call_command("load_calendar_year", "2027", str(path))
    assert not CalendarYear.objects.exists()


def test_the_command_exits_non_zero_with_one_line_for_a_missing_file(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "load_calendar_year", "2027", str(tmp_path / "missing.txt")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert "cannot read" in result.stderr
