"""A form's error sits next to the field it is about (after that field's label, before the next
field), never in a banner far above or above the wrong field."""

import pytest
from django.urls import reverse

from kameng.refunds.models import RefundCase
from tests import factories as f
from tests.refunds.test_pages import custom_service_order, login, submit

pytestmark = pytest.mark.django_db


def between(html: str, error: str, after: str, before: str) -> bool:
    """Whether `error` shows after the marker `after` and before the marker `before`."""
    at = html.find(error)
    return at != -1 and html.find(after) < at < html.find(before, html.find(after))


def test_register_errors_sit_at_their_field(client):
    page = client.post(
        "/accounts/register/", {"username": "a!", "password1": "Long-enough-1", "password2": "different"}
    ).content.decode()
    assert between(page, "用户名只能包含字母", 'for="id_username"', 'name="username"')
    assert between(page, "两次输入的密码不一致", 'for="id_password2"', 'name="password2"')
    assert page.count("两次输入的密码不一致") == 1


def test_login_field_errors_show_at_their_field(client):
    page = client.post("/accounts/login/", {"username": "", "password": ""}).content.decode()
    assert between(page, "这个字段是必填项", 'for="id_username"', 'name="username"')


def test_the_wallet_top_up_error_sits_under_the_amount(client):
    client.force_login(f.buyer())
    page = client.post(reverse("payments:topup"), {"amount": "abc"}, follow=True).content.decode()
    assert between(page, "请输入正确的金额", 'for="id_amount"', 'id="topup-btn"')
    assert page.count("请输入正确的金额") == 1


def test_the_refund_form_error_sits_under_the_amount(client):
    buyer = f.buyer()
    order = custom_service_order(buyer)
    login(client, buyer)
    page = submit(client, order, reason="other", demand="partial_refund", amount="").content.decode()
    assert between(page, "选择部分退款时，请填写金额", 'for="id_amount"', 'name="refund_to"')
    assert page.count("选择部分退款时，请填写金额") == 1


def test_the_seller_offer_error_sits_in_the_offer_form_and_opens_it(client):
    buyer = f.buyer()
    order = custom_service_order(buyer)
    login(client, buyer)
    submit(client, order, reason="other")
    case = RefundCase.objects.get(order=order)
    login(client, order.seller.owner)
    url = reverse("refunds:seller_detail", args=[case.pk])
    page = client.post(url, {"action": "offer_partial", "amount": "abc"}, follow=True).content.decode()
    assert between(page, "不是有效的数字", 'for="offer-amount"', 'id="repl-note"')
    assert '<details id="offer" open>' in page
    assert page.count("不是有效的数字") == 1
