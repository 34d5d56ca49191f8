"""accounts.services.notify is how every app tells a user something: no app writes Notice rows itself."""

import pytest
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext_noop

from kameng.accounts.models import Notice
from kameng.accounts.services import Notification, notify, notify_many
from kameng.sentences import Sentence
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_a_notice_reaches_its_user_and_shows_on_their_wallet_page(client):
    buyer = f.buyer()

    notice = notify(buyer, "退款 ¥12.00 已完成", "/refunds/7/")

    assert (notice.user, notice.text, notice.link) == (buyer, "退款 ¥12.00 已完成", "/refunds/7/")
    client.force_login(buyer)
    page = client.get("/wallet/").content.decode()
    assert "退款 ¥12.00 已完成" in page and 'href="/refunds/7/"' in page


def test_a_notice_is_shown_in_the_language_its_reader_reads_not_the_one_it_was_written_in(client):
    buyer = f.buyer()
    with translation.override("en"):  # whoever caused it was reading English
        notify(buyer, Sentence(gettext_noop("充值成功：¥%(amt)s 已到账。"), amt="5.00"), "/wallet/")

    client.force_login(buyer)
    assert "充值成功：¥5.00 已到账。" in client.get("/wallet/").content.decode()
    english = client.get("/wallet/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Top-up successful: ¥5.00 has been credited." in english
    assert "充值成功" not in english


def test_a_long_notice_is_kept_whole():
    buyer = f.buyer()

    notify(buyer, "长" * 400)

    assert Notice.objects.get(user=buyer).message == "长" * 400


def test_notices_collected_by_an_action_are_one_write(django_assert_num_queries):
    buyer, seller, agent = f.buyer(), f.buyer(), f.buyer()
    collected = [
        Notification(buyer.pk, "退款申请已提交", "/refunds/3/"),
        Notification(seller.pk, "订单有新的退款申请，请在 48 小时内处理。", "/refunds/seller/3/"),
        Notification(agent.pk, "长" * 400),
    ]

    with django_assert_num_queries(1):
        notify_many(collected)

    assert list(Notice.objects.order_by("pk").values_list("user_id", "link")) == [
        (buyer.pk, "/refunds/3/"),
        (seller.pk, "/refunds/seller/3/"),
        (agent.pk, ""),
    ]
    assert Notice.objects.get(user=agent).message == "长" * 400


def test_a_notice_is_part_of_the_callers_transaction():
    buyer = f.buyer()

    with pytest.raises(RuntimeError), transaction.atomic():
        notify(buyer, "充值成功")
        raise RuntimeError("the change it reports did not happen")

    assert not Notice.objects.filter(user=buyer).exists()
