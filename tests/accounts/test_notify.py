"""accounts.services.notify is how every app tells a user something: no app writes Notice rows itself."""

import pytest
from django.db import transaction

from kameng.accounts.models import Notice
from kameng.accounts.services import notify, notify_many
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_a_notice_reaches_its_user_and_shows_on_their_wallet_page(client):
    buyer = f.buyer()

    notice = notify(buyer, "退款 ¥12.00 已完成", "/refunds/7/")

    assert (notice.user, notice.text, notice.link) == (buyer, "退款 ¥12.00 已完成", "/refunds/7/")
    client.force_login(buyer)
    page = client.get("/wallet/").content.decode()
    assert "退款 ¥12.00 已完成" in page and 'href="/refunds/7/"' in page


def test_a_text_longer_than_a_notice_holds_is_cut_not_refused():
    buyer = f.buyer()

    notify(buyer, "长" * 400)

    assert Notice.objects.get(user=buyer).text == "长" * 300


def test_the_same_notice_to_several_users_is_one_write(django_assert_num_queries):
    people = [f.buyer() for _ in range(3)]

    with django_assert_num_queries(1):
        notify_many(people, "买家催促处理退款申请 #3", "/refunds/staff/3/")

    assert sorted(
        Notice.objects.filter(text__startswith="买家催促").values_list("user_id", flat=True)
    ) == sorted(p.pk for p in people)


def test_a_notice_is_part_of_the_callers_transaction():
    buyer = f.buyer()

    with pytest.raises(RuntimeError), transaction.atomic():
        notify(buyer, "充值成功")
        raise RuntimeError("the change it reports did not happen")

    assert not Notice.objects.filter(user=buyer).exists()
