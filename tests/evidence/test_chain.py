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


def delete_behind_the_systems_back(events) -> None:
    """What someone with write access to the database does: no ORM, no signals, no retention guard."""
    from django.db import connection

    ids = list(events.values_list("pk", flat=True))
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {Event._meta.db_table} WHERE id IN ({', '.join(['%s'] * len(ids))})", ids
        )


def test_verify_chain_catches_a_deleted_event():
    buyer = f.buyer(balance=50_00)
    order = place_order(buyer=buyer, product=f.product(price=10_00, keys=1))
    delete_behind_the_systems_back(Event.objects.filter(stream=order.stream, seq=2))

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

    assert statements_of_verify_chain() == with_5 <= 5


def test_verify_chain_streams_past_one_chunk_and_still_catches_a_change(capsys):
    from kameng.evidence.management.commands import verify_chain

    chains(verify_chain.CHUNK // 3 + 5)  # more events than one chunk holds
    call_command("verify_chain")
    assert f"chain OK: {3 * (verify_chain.CHUNK // 3 + 5)} events" in capsys.readouterr().out

    last = Event.objects.order_by("stream", "seq").last()
    Event.objects.filter(pk=last.pk).update(kind="forged")
    with pytest.raises(CommandError, match=f"{last.stream}#{last.seq}: content changed"):
        call_command("verify_chain")


# --- the sealed heads (issue 16, item 4): what the chain alone could not see ---------------------


def order_with_history():
    buyer = f.buyer(balance=50_00)
    return place_order(buyer=buyer, product=f.product(price=10_00, keys=1))


def test_deleting_the_last_event_is_caught():
    order = order_with_history()
    last = Event.objects.filter(stream=order.stream).order_by("-seq").first()
    delete_behind_the_systems_back(Event.objects.filter(pk=last.pk))  # the chain left is still a valid chain

    with pytest.raises(
        CommandError, match=f"{order.stream}: events #{last.seq}..#{last.seq} missing at the end"
    ):
        call_command("verify_chain")
    with pytest.raises(CommandError, match="missing at the end"):
        call_command("verify_chain", stream=order.stream)


def test_deleting_a_whole_stream_is_caught():
    order = order_with_history()
    delete_behind_the_systems_back(Event.objects.filter(stream=order.stream))

    with pytest.raises(CommandError, match=f"{order.stream}: every event up to #\\d+ is missing"):
        call_command("verify_chain")


def test_moving_the_head_back_to_hide_a_deletion_is_caught():
    from kameng.evidence.models import StreamHead

    order = order_with_history()
    last = Event.objects.filter(stream=order.stream).order_by("-seq").first()
    before = Event.objects.get(stream=order.stream, seq=last.seq - 1)
    delete_behind_the_systems_back(Event.objects.filter(pk=last.pk))
    # Whoever edits the tables moves the head too, but cannot seal it without the key.
    StreamHead.objects.filter(stream=order.stream).update(seq=before.seq, hash=before.hash)

    with pytest.raises(CommandError, match=f"{order.stream}: the sealed head was changed"):
        call_command("verify_chain")


def test_reordering_events_is_caught():
    order = order_with_history()
    first, second = Event.objects.filter(stream=order.stream).order_by("seq")[:2]
    Event.objects.filter(pk=first.pk).update(seq=999)
    Event.objects.filter(pk=second.pk).update(seq=first.seq)
    Event.objects.filter(pk=first.pk).update(seq=second.seq)

    with pytest.raises(CommandError, match=r"prev_hash does not match|content changed"):
        call_command("verify_chain")


def test_an_event_added_behind_the_systems_back_is_caught():
    from kameng.evidence.services import head_of, new_event

    order = order_with_history()
    forged = new_event(stream=order.stream, kind="order_refunded", head=head_of(order.stream), data={"x": 1})
    Event.objects.bulk_create([forged])  # a well-formed event, but the head was not moved with it

    with pytest.raises(CommandError, match="beyond the sealed head"):
        call_command("verify_chain")


def test_the_staff_page_shows_the_last_check_and_checks_one_stream(client):
    from kameng.accounts.models import Role

    order = order_with_history()
    call_command("verify_chain", stdout=io.StringIO())
    client.force_login(f.staff(Role.AGENT))
    page = client.get("/staff/evidence/chain/").content.decode()
    assert "完整" in page and "条事件流" in page
    assert client.post("/staff/evidence/chain/run/").status_code == 403  # supervisors start full checks

    last = Event.objects.filter(stream=order.stream).order_by("-seq").first()
    delete_behind_the_systems_back(Event.objects.filter(pk=last.pk))
    page = client.get("/staff/evidence/chain/", {"stream": order.stream}).content.decode()
    assert "发现问题" in page and "missing at the end" in page


@pytest.mark.django_db(transaction=True)  # the task worker reads committed rows on PostgreSQL
def test_a_supervisor_runs_the_full_check_from_the_page(client, drain_tasks):
    from kameng.accounts.models import Role

    order = order_with_history()
    Event.objects.filter(stream=order.stream, seq=1).update(actor_label="someone else")
    client.force_login(f.staff(Role.SUPERVISOR))
    assert client.post("/staff/evidence/chain/run/").status_code == 302
    drain_tasks()
    page = client.get("/staff/evidence/chain/").content.decode()
    assert "发现问题" in page and f"{order.stream}#1: content changed" in page
