from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

BEIJING = ZoneInfo("Asia/Shanghai")

# A made-up 2027 schedule for tests (not the State Council's): 春节 moved to include Monday 02-08.
SCHEDULE_2027 = """\
# 2027 年放假安排（测试用，非官方）
2027-01-01 holiday 元旦

2027-01-30 workday 春节调休
2027-02-06 holiday 春节
2027-02-07 holiday 春节
2027-02-08 holiday 春节
2027-02-09 holiday 春节
2027-02-10 holiday 春节
2027-02-11 holiday 春节
2027-02-12 holiday 春节
2027-02-20 workday 春节调休   # a Saturday
"""


def beijing(*args: int) -> datetime:
    """An aware datetime in Beijing time: beijing(2026, 9, 30, 10) is 2026-09-30 10:00 +08:00."""
    return datetime(*args, tzinfo=BEIJING)


@pytest.fixture
def late_2026(monkeypatch):
    """Pin "now" to 2026-11-27 10:00 Beijing time, when 2027's schedule is not in the package."""
    now = beijing(2026, 11, 27, 10)
    monkeypatch.setattr("django.utils.timezone.now", lambda: now)
    return now
