import pytest
from django.core.management import CommandError, call_command

from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url",
    ["/orders/KM%00X/", "/refunds/new/KM%00/", "/sandbox/pay/P%00/", "/api/orders/KM%00"],
)
def test_a_nul_in_the_url_is_a_clear_400_not_a_500(client, url):
    client.force_login(f.buyer())
    response = client.get(url)
    assert response.status_code == 400
    assert "无效字符" in response.content.decode()


def test_a_nul_in_a_form_field_is_refused_and_nothing_is_bought(client):
    buyer = f.buyer(balance=100_00)
    product = f.product(kind="direct_topup", price=10_00)
    client.force_login(buyer)

    response = client.post(f"/orders/buy/{product.pk}/", {"quantity": "1", "target_account": "uid\x00x"})

    assert response.status_code == 400
    assert not buyer.orders.exists()


def test_verify_chain_on_an_unknown_stream_fails_in_one_line():
    with pytest.raises(CommandError, match="no events in stream case:999999"):
        call_command("verify_chain", stream="case:999999")


def test_deploy_check_refuses_the_public_development_secrets(monkeypatch):
    monkeypatch.delenv("KAMENG_CARDKEY_KEY", raising=False)
    with pytest.raises(Exception, match=r"kameng\.E001"):
        call_command("check", "--deploy", "--fail-level", "ERROR")
