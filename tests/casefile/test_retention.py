"""Records are kept at least 3 years (电子商务法 第三十一条; issue 16, item 6): nobody deletes a case,
a message, an event or a complaint earlier, admins included."""

from datetime import timedelta

import pytest
from django.contrib.admin import site
from django.db import transaction
from django.utils import timezone
from freezegun import freeze_time

from kameng.casefile.models import Complaint
from kameng.casefile.retention import RecordKept
from kameng.evidence.models import Event
from kameng.refunds.models import RefundCase
from kameng.support import services
from kameng.support.models import Message
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_a_young_message_event_or_case_cannot_be_deleted_by_anyone():
    buyer = f.buyer("张三")
    conversation = services.conversation_for(buyer=buyer)
    message = services.post_message(conversation_id=conversation.pk, author=buyer, body="我的退款到哪了")
    # (Django deletes without a savepoint of its own: each refused attempt gets one here.)
    with pytest.raises(RecordKept, match="电子商务法"), transaction.atomic():
        message.delete()
    with pytest.raises(RecordKept), transaction.atomic():
        Message.objects.filter(pk=message.pk).delete()
    assert Message.objects.filter(pk=message.pk).exists()

    f.product(keys=1)  # writes a stock event
    event = Event.objects.first()
    with pytest.raises(RecordKept), transaction.atomic():
        event.delete()
    assert Event.objects.filter(pk=event.pk).exists()


def test_after_three_years_a_message_may_go():
    buyer = f.buyer("张三")
    conversation = services.conversation_for(buyer=buyer)
    message = services.post_message(conversation_id=conversation.pk, author=buyer, body="你好")
    with freeze_time(timezone.now() + timedelta(days=3 * 366 + 1)):
        Message.objects.filter(conversation=conversation).delete()
    assert not Message.objects.filter(pk=message.pk).exists()


def test_the_admin_offers_no_delete_for_kept_records(rf):
    admin_user = f.staff("admin")
    request = rf.get("/admin/")
    request.user = admin_user
    for model in (RefundCase, Event, Complaint):
        assert site.get_model_admin(model).has_delete_permission(request) is False
