import pytest
from django.core.management import CommandError, call_command

from kameng.evidence.models import Event
from kameng.orders.services import place_order
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_verify_chain_passes_on_real_history_and_catches_an_edited_event(capsys):
    buyer = f.buyer(balance=50_00)
    order = place_order(buyer=buyer, product=f.product(price=10_00, keys=1))

    call_command("verify_chain")
    assert "chain OK" in capsys.readouterr().out

    event = Event.objects.filter(stream=order.stream, kind="order_paid").get()
    Event.objects.filter(pk=event.pk).update(data={**event.data, "amount": 1})  # someone rewrites history
    with pytest.raises(CommandError, match=f"{order.stream}#{event.seq}: content changed"):
        call_command("verify_chain")


def test_verify_chain_catches_a_deleted_event():
    buyer = f.buyer(balance=50_00)
    order = place_order(buyer=buyer, product=f.product(price=10_00, keys=1))
    Event.objects.filter(stream=order.stream, seq=2).delete()

    with pytest.raises(CommandError, match="missing"):
        call_command("verify_chain", stream=order.stream)
