import io

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


def chains(count: int, length: int = 3, first: int = 0) -> None:
    """`count` intact chains of `length` events each, written as the services write them."""
    from kameng.evidence.services import EMPTY_HEAD, new_event, save_events

    events = []
    for n in range(first, first + count):
        head = EMPTY_HEAD
        for i in range(length):
            event = new_event(stream=f"test:{n}", kind="step", head=head, data={"i": i})
            events.append(event)
            head = (event.seq, event.hash)
    save_events(events)


def statements_of_verify_chain() -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as run:
        call_command("verify_chain", stdout=io.StringIO())
    return len(run)


def test_verify_chain_reads_every_stream_in_a_bounded_number_of_statements():
    chains(5)
    with_5 = statements_of_verify_chain()
    chains(45, length=4, first=5)  # 50 streams now

    assert statements_of_verify_chain() == with_5 <= 2


def test_verify_chain_streams_past_one_chunk_and_still_catches_a_change(capsys):
    from kameng.evidence.management.commands import verify_chain

    chains(verify_chain.CHUNK // 3 + 5)  # more events than one chunk holds
    call_command("verify_chain")
    assert f"chain OK: {3 * (verify_chain.CHUNK // 3 + 5)} events" in capsys.readouterr().out

    last = Event.objects.order_by("stream", "seq").last()
    Event.objects.filter(pk=last.pk).update(kind="forged")
    with pytest.raises(CommandError, match=f"{last.stream}#{last.seq}: content changed"):
        call_command("verify_chain")
