import pytest

from kameng.refunds import policy
from kameng.refunds.models import Clause

pytestmark = pytest.mark.django_db


def test_editing_a_clause_in_admin_makes_a_new_version_and_keeps_the_old(admin_client):
    old = Clause.objects.get(number=6, is_current=True)
    url = f"/admin/refunds/clause/{old.pk}/change/"

    resp = admin_client.post(
        url, {"title": old.title, "body": "卖家应在 24 小时内答复。", "params": '{"hours": 24}'}
    )

    assert resp.status_code == 302
    current = policy.clause(6)
    assert (current.version, current.params["hours"]) == (2, 24)
    old.refresh_from_db()
    assert old.is_current is False and old.body.startswith("卖家应在 48 小时")
    assert Clause.objects.filter(number=6).count() == 2


def test_unchanged_save_does_not_make_a_version(admin_client):
    old = Clause.objects.get(number=3, is_current=True)
    admin_client.post(
        f"/admin/refunds/clause/{old.pk}/change/",
        {"title": old.title, "body": old.body, "params": '{"hours": 24}'},
    )
    assert Clause.objects.filter(number=3).count() == 1
