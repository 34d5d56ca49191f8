"""Administrators paste a year's schedule in the admin and see a banner while a year is untrusted."""

from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from kameng.workdays.calendar import is_workday
from kameng.workdays.models import CalendarDay, CalendarYear

from .conftest import SCHEDULE_2027

pytestmark = pytest.mark.django_db

LOAD_URL = reverse("admin:workdays_calendaryear_load")


def test_a_superuser_pastes_2027_and_the_year_is_loaded(admin_client, late_2026):
    # given the load page, which carries a CSRF token and the warning
    page = admin_client.get(LOAD_URL)
    assert page.status_code == 200
    assert "csrfmiddlewaretoken" in page.text
    assert "2027 年的法定节假日安排尚未载入" in page.text
    # when the superuser pastes the schedule
    response = admin_client.post(LOAD_URL, {"year": 2027, "text": SCHEDULE_2027, "note": "测试"}, follow=True)
    # then the year is loaded, the admin says so, and the answers change
    assert response.redirect_chain[-1][0] == reverse("admin:workdays_calendaryear_changelist")
    assert "已载入 2027 年：8 天放假，2 天调休上班。" in response.text
    assert CalendarYear.objects.get(year=2027).note == "测试"
    assert is_workday(date(2027, 2, 8)) is False
    # and the changelist shows no warning banner any more
    assert "尚未载入" not in response.text


def test_a_bad_paste_shows_the_line_numbers_and_loads_nothing(admin_client):
    response = admin_client.post(
        LOAD_URL, {"year": 2027, "text": "2027-01-01 holiday 元旦\n2027-02-30 holiday 春节\n"}
    )
    assert response.status_code == 200
    assert "第 2 行" in response.text
    assert not CalendarYear.objects.exists()


def test_a_paste_for_the_wrong_year_is_refused(admin_client):
    response = admin_client.post(LOAD_URL, {"year": 2028, "text": SCHEDULE_2027})
    assert response.status_code == 200
    assert "2027-01-01 不在 2028 年内" in response.text
    assert not CalendarDay.objects.exists()


def test_anonymous_visitors_are_sent_to_the_admin_login_and_nothing_is_loaded(client):
    page = client.get(LOAD_URL)
    assert page.status_code == 302
    assert page["Location"].startswith(reverse("admin:login"))
    client.post(LOAD_URL, {"year": 2027, "text": SCHEDULE_2027})
    assert not CalendarYear.objects.exists()


def test_staff_without_calendar_permissions_are_refused(django_user_model):
    clerk = django_user_model.objects.create_user(username="clerk", password="x-pass-123", is_staff=True)
    client = Client()
    client.force_login(clerk)
    assert client.get(LOAD_URL).status_code == 403
    assert client.post(LOAD_URL, {"year": 2027, "text": SCHEDULE_2027}).status_code == 403
    assert not CalendarYear.objects.exists()


def test_a_post_without_the_csrf_token_is_refused(admin_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    assert client.post(LOAD_URL, {"year": 2027, "text": SCHEDULE_2027}).status_code == 403
    assert not CalendarYear.objects.exists()


def test_the_changelists_warn_while_next_year_is_untrusted(admin_client, late_2026):
    for name in ("admin:workdays_calendaryear_changelist", "admin:workdays_calendarday_changelist"):
        response = admin_client.get(reverse(name))
        assert response.status_code == 200
        assert "2027 年的法定节假日安排尚未载入" in response.text
    assert LOAD_URL in admin_client.get(reverse("admin:workdays_calendaryear_changelist")).text


def test_a_correction_added_in_the_admin_is_marked_as_the_administrators(admin_client):
    response = admin_client.post(
        reverse("admin:workdays_calendarday_add"),
        {"date": "2026-10-08", "is_workday": "", "name": "临时停工"},
    )
    assert response.status_code == 302
    day = CalendarDay.objects.get(date=date(2026, 10, 8))
    assert (day.is_workday, day.source, day.name) == (False, "admin", "临时停工")
    assert is_workday(date(2026, 10, 8)) is False


def test_admin_home_warns_when_next_years_calendar_is_missing(admin_client):
    from kameng.workdays.calendar import calendar_warning

    warning = calendar_warning()
    resp = admin_client.get("/admin/")
    assert resp.status_code == 200
    assert warning, "chinesecalendar 1.11 stops at 2026, so late 2026 must warn about 2027"
    assert warning in resp.content.decode()
