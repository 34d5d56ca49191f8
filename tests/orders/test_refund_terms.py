"""Issue 14, item 14: the refund terms of the goods' kind are shown before buying, confirmed at
checkout (消费者权益保护法 第二十五条), recorded on the order with their versions, shown on it, and
cited in that version by the order's refund cases."""

import pytest

from kameng.orders.models import Order
from kameng.refunds import policy
from kameng.refunds.models import Clause
from kameng.refunds.services import submit_refund
from tests import factories as f

pytestmark = pytest.mark.django_db


def new_version(number: int, body: str) -> Clause:
    """An administrator rewrites a clause: a new current version, the old one kept."""
    old = Clause.objects.get(number=number, is_current=True)
    Clause.objects.filter(pk=old.pk).update(is_current=False)
    new = Clause.objects.create(
        number=number, version=old.version + 1, title=old.title, body=body, params=old.params
    )
    policy.clear_cache()
    return new


def buy_on_page(client, product, **extra):
    data = {"quantity": "1", "pay_method": "balance", **extra}
    return client.post(f"/orders/buy/{product.pk}/", data, follow=True)


@pytest.mark.parametrize(
    ("kind", "clauses"),
    [
        ("card_key", ["第4条 未查看卡密（v1）", "第11条 卡密无效（v1）"]),
        ("custom_service", ["第5条 定制服务（v1）"]),
        ("direct_topup", ["第3条 未发货/未到账（v1）"]),
        ("activation", ["第3条 未发货/未到账（v1）"]),
    ],
)
def test_the_product_page_shows_the_clauses_of_its_kind_and_asks_to_confirm_them(client, kind, clauses):
    product = f.product(kind=kind, keys=2 if kind == "card_key" else 0)
    client.force_login(f.buyer())

    page = client.get(f"/p/{product.pk}/").content.decode()

    terms = page[page.index('id="refund-terms"') : page.index('id="buy-form"')]
    for clause in clauses:
        assert clause in terms
    assert ("第5条" in terms) == (kind == "custom_service")
    assert 'name="accept_terms"' in page and "我已阅读并同意上述退款条款" in page
    assert ("第二十五条" in terms) == (kind == "card_key")


def test_buying_without_confirming_the_terms_is_refused_and_places_nothing(client):
    buyer = f.buyer(balance=50_00)
    product = f.product(keys=2)
    client.force_login(buyer)

    page = buy_on_page(client, product).content.decode()

    assert "请先阅读并勾选同意该商品的退款条款（第4条、第11条）后再下单。" in page
    assert not Order.objects.filter(buyer=buyer).exists()


def test_the_order_records_and_shows_the_versions_the_buyer_confirmed(client):
    buyer = f.buyer(balance=50_00)
    product = f.product(keys=2)
    client.force_login(buyer)

    page = buy_on_page(client, product, accept_terms="1", terms_shown="4@v1,11@v1").content.decode()

    order = Order.objects.get(buyer=buyer)
    assert [(t["number"], t["version"]) for t in order.accepted_terms] == [(4, 1), (11, 1)]
    assert "购买时已确认：" in page and "第4条 未查看卡密（v1）" in page


def test_terms_changed_after_the_page_was_shown_must_be_read_again(client):
    buyer = f.buyer(balance=50_00)
    product = f.product(keys=2)
    client.force_login(buyer)
    new_version(4, "卡密从未被查看且未被兑换的，3 天内可申请全额退款。")

    page = buy_on_page(client, product, accept_terms="1", terms_shown="4@v1,11@v1").content.decode()

    assert "退款条款刚刚更新，请重新阅读并确认后再下单。" in page
    assert not Order.objects.filter(buyer=buyer).exists()


def test_the_api_needs_accept_terms_and_says_why_in_chinese(client):
    buyer = f.buyer(balance=50_00)
    product = f.product(kind="custom_service", price=10_00)
    client.force_login(buyer)

    terms = client.get(f"/api/catalog/products/{product.pk}").json()["refund_terms"]
    refused = client.post("/api/orders", {"product_id": product.pk}, content_type="application/json")
    placed = client.post(
        "/api/orders", {"product_id": product.pk, "accept_terms": True}, content_type="application/json"
    )

    assert [(t["number"], t["version"]) for t in terms] == [(5, 1)]
    assert refused.status_code == 422
    assert "请先阅读并勾选同意该商品的退款条款（第5条）" in refused.json()["detail"]
    assert placed.status_code == 201
    assert placed.json()["accepted_terms"] == [{"number": 5, "version": 1, "title": "定制服务"}]


def test_a_case_cites_the_clause_version_its_order_accepted(client):
    buyer = f.buyer(balance=100_00)
    product = f.product(keys=4, price=10_00)
    client.force_login(buyer)
    buy_on_page(client, product, accept_terms="1", terms_shown="4@v1,11@v1")
    before = Order.objects.get(buyer=buyer)
    new_version(4, "卡密从未被查看且未被兑换的，30 天内可申请全额退款。")
    buy_on_page(client, product, accept_terms="1", terms_shown="4@v2,11@v1")
    after = Order.objects.filter(buyer=buyer).exclude(pk=before.pk).get()

    old_case = submit_refund(order=before, actor=buyer, reason="other", demand="full_refund")
    new_case = submit_refund(order=after, actor=buyer, reason="other", demand="full_refund")

    assert old_case.decision_clause == "4@v1"
    assert new_case.decision_clause == "4@v2"
