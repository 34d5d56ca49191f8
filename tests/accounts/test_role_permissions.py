import pytest

from kameng.accounts.models import Role
from kameng.accounts.roles import sync_role_permissions
from kameng.refunds.models import Clause
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_a_supervisor_edits_the_policy_in_admin_but_an_agent_cannot(client):
    sync_role_permissions()
    clause = Clause.objects.get(number=7, is_current=True)
    url = f"/admin/refunds/clause/{clause.pk}/change/"

    client.force_login(f.staff(Role.AGENT))
    assert client.get(url).status_code == 403

    client.force_login(f.staff(Role.SUPERVISOR))
    assert client.get(url).status_code == 200
    resp = client.post(
        url,
        {"title": clause.title, "body": "需要补充材料时，买家有 96 小时提交。", "params": '{"hours": 96}'},
    )
    assert resp.status_code == 302
    assert Clause.objects.get(number=7, is_current=True).params["hours"] == 96


def test_an_admin_role_without_superuser_creates_staff_accounts(client):
    sync_role_permissions()
    client.force_login(f.staff(Role.ADMIN))
    assert client.get("/admin/accounts/user/add/").status_code == 200
    assert client.get("/admin/wallet/transaction/").status_code == 200  # read-only ledger


def test_finance_reads_payments_and_gateway_refunds_and_an_admin_reads_card_keys_where_they_moved(client):
    sync_role_permissions()
    client.force_login(f.staff(Role.FINANCE))
    assert client.get("/admin/payments/gatewayrefund/").status_code == 200
    assert client.get("/admin/inventory/cardkey/").status_code == 403

    client.force_login(f.staff(Role.ADMIN))
    assert client.get("/admin/inventory/cardkey/").status_code == 200
