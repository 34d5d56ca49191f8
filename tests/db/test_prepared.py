"""Hot-path reads and writes that skip Django's per-call compilation must give exactly what the ORM
gives: the same rows, the same Python values (dates, JSON, booleans), the same related objects."""

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Count
from django.utils import timezone

from kameng.accounts.models import Notice
from kameng.db import prepared
from kameng.db.prepared import PreparedQuery
from kameng.evidence.models import Event
from kameng.orders.models import Delivery, Order
from kameng.orders.services import place_order
from tests import factories as f

pytestmark = pytest.mark.django_db

ORDERS = PreparedQuery(
    lambda no: (
        Order.objects.select_related("product", "seller", "delivery")
        .annotate(n_keys=Count("card_keys"))
        .filter(no=no)
    ),
    no=str,
)


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _row(obj) -> dict:
    return {field.attname: getattr(obj, field.attname) for field in type(obj)._meta.concrete_fields}


def _orders(n: int) -> list[Order]:
    buyer = f.buyer(balance=100_00)
    product = f.product(price=10_00, keys=n)
    return [place_order(buyer=buyer, product=product) for _ in range(n)]


def test_a_prepared_read_builds_the_same_objects_as_the_orm_each_time_with_its_own_values():
    first, second = _orders(2)

    for order in (first, second, first):  # the second and third runs reuse the compiled SQL
        (got,) = ORDERS.fetch(no=order.no)
        want = (
            Order.objects.select_related("product", "seller", "delivery")
            .annotate(n_keys=Count("card_keys"))
            .get(no=order.no)
        )
        assert _row(got) == _row(want)
        assert _row(got.product) == _row(want.product)
        assert _row(got.seller) == _row(want.seller)
        assert _row(got.delivery) == _row(want.delivery)
        assert got.n_keys == want.n_keys == 1
        assert got.paid_at.tzinfo is not None


def test_no_match_is_an_empty_list():
    assert ORDERS.fetch(no="KM-none") == []


def test_a_values_list_comes_back_as_tuples():
    order = _orders(1)[0]
    query = PreparedQuery(
        lambda pk: Order.objects.filter(pk=pk).values_list("no", "amount", "paid_at"), pk=int
    )

    assert query.fetch(pk=order.pk) == list(
        Order.objects.filter(pk=order.pk).values_list("no", "amount", "paid_at")
    )


@pytest.mark.django_db(transaction=True)  # the other tests run inside the test's own transaction
def test_a_locking_read_refuses_to_run_outside_a_transaction():
    order = _orders(1)[0]
    query = PreparedQuery(lambda no: Order.objects.select_for_update().filter(no=no), no=str)
    with transaction.atomic():
        assert query.fetch(no=order.no)[0].pk == order.pk

    with pytest.raises(RuntimeError):
        query.fetch(no=order.no)


def test_a_parameter_that_does_not_reach_the_sql_is_refused():
    query = PreparedQuery(lambda no, pk: Order.objects.filter(no=no), no=str, pk=int)

    with pytest.raises(ValueError):
        query.fetch(no="x", pk=1)


def test_insert_writes_what_save_would_and_sets_keys():
    buyer = f.buyer()
    events = [
        Event(
            stream="test:1",
            seq=n,
            kind="k",
            actor=buyer,
            created_at=timezone.now(),
            data={"中文": "值", "n": n, "ok": True},
        )
        for n in (1, 2)
    ]
    notice = Notice(user=buyer, text="退款已完成", link="/x/")

    prepared.insert(events)
    prepared.insert([notice])

    assert all(e.pk for e in events) and notice.pk
    stored = Event.objects.get(pk=events[1].pk)
    assert stored.data == {"中文": "值", "n": 2, "ok": True}
    assert stored.actor_id == buyer.pk
    assert Notice.objects.get(pk=notice.pk).created_at == notice.created_at  # auto_now_add, as save()
    assert not notice._state.adding


def test_values_that_are_not_plain_are_prepared_as_save_prepares_them():
    from django.utils.translation import gettext_lazy

    from kameng.refunds.models import Stage

    buyer = f.buyer()
    lazy = Notice(user=buyer, text=gettext_lazy("退款已完成"), link=Stage.REFUNDED)
    numeric = Event(stream="test:4", seq="7", kind=Stage.REFUNDED, created_at=timezone.now())

    prepared.insert([lazy])
    prepared.insert([numeric])

    assert Notice.objects.filter(pk=lazy.pk).values_list("text", "link").get() == ("退款已完成", "refunded")
    assert Event.objects.filter(pk=numeric.pk).values_list("seq", "kind").get() == (7, "refunded")


def test_update_reads_a_deferred_field_as_save_does_instead_of_writing_null():
    order = _orders(1)[0]
    Delivery.objects.filter(order=order).update(supplier_message="保留")
    partial = Delivery.objects.only("id", "status").get(order=order)

    prepared.update(partial, ["supplier_message", "status"])

    assert Delivery.objects.get(pk=partial.pk).supplier_message == "保留"


def test_insert_unless_exists_skips_a_row_that_would_break_a_unique_constraint():
    first = Event(stream="test:2", seq=1, kind="first", created_at=timezone.now())
    again = Event(stream="test:2", seq=1, kind="again", created_at=timezone.now())

    assert prepared.insert_unless_exists(first) is True
    assert prepared.insert_unless_exists(again) is False

    assert first.pk and again.pk is None and again._state.adding
    assert list(Event.objects.filter(stream="test:2").values_list("seq", "kind")) == [(1, "first")]


def test_update_writes_only_the_named_fields_and_refreshes_auto_now():
    order = _orders(1)[0]
    delivery = Delivery.objects.get(order=order)
    before = delivery.updated_at
    delivery.status = "voided"
    delivery.supplier_message = "not saved"

    prepared.update(delivery, ["status", "updated_at"])

    stored = Delivery.objects.get(pk=delivery.pk)
    assert stored.status == "voided"
    assert stored.supplier_message != "not saved"
    assert stored.updated_at > before


def test_a_flush_writes_everything_and_raises_a_failure_as_djangos_error():
    buyer = f.buyer()
    later = prepared.Later()
    later.insert([Notice(user=buyer, text="一", link="50%")])
    later.insert([Event(stream="test:3", seq=1, kind="a", data={"p": "%s"}, created_at=timezone.now())])
    later.flush()
    assert Notice.objects.get(user=buyer).link == "50%"  # values are values, never SQL
    assert Event.objects.get(stream="test:3").data == {"p": "%s"}

    later.insert([Notice(user=buyer, text="二", link="")])
    later.insert([Event(stream="test:3", seq=1, kind="again", created_at=timezone.now())])
    later.insert([Notice(user=buyer, text="三", link="")])
    with pytest.raises(IntegrityError), transaction.atomic():
        later.flush()

    assert Notice.objects.filter(user=buyer).count() == 1  # the failed flush left nothing behind
    assert list(Event.objects.filter(stream="test:3").values_list("kind", flat=True)) == ["a"]


def test_reads_fetched_together_answer_as_each_fetched_alone():
    orders = _orders(3)
    heads = PreparedQuery(
        lambda stream: Event.objects.filter(stream=stream).order_by("-seq").values_list("seq", "kind")[:1],
        stream=str,
    )
    reads = [
        (ORDERS, {"no": orders[0].no}),
        (heads, {"stream": orders[1].stream}),
        (ORDERS, {"no": "no such order"}),
        (ORDERS, {"no": orders[2].no}),
    ]

    together = prepared.fetch_together(*reads)

    alone = [query.fetch(**params) for query, params in reads]
    assert [_rows(r) for r in together] == [_rows(r) for r in alone]
    assert together[0][0].delivery.status == alone[0][0].delivery.status
    assert together[2] == [] and together[1] == alone[1] != []


def _rows(found):
    return [
        (o.pk, o.no, o.product.name, o.n_keys, o.created_at) if isinstance(o, Order) else o for o in found
    ]


def test_later_writes_nothing_until_it_is_flushed():
    order = _orders(1)[0]
    later = prepared.Later()
    order.status = "refunded"
    later.update(order, ["status"])
    later.insert([Notice(user_id=order.buyer_id, text="稍后", link="")])

    assert Order.objects.get(pk=order.pk).status != "refunded"
    assert not Notice.objects.filter(text="稍后").exists()

    later.flush()

    assert Order.objects.get(pk=order.pk).status == "refunded"
    assert Notice.objects.filter(text="稍后").count() == 1


# --- PostgreSQL: statements prepared on the server once per connection ------------------------------


def _server_statements() -> dict[str, int]:
    """This connection's prepared statements of ours: name -> times run with a generic plan or not."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, generic_plans + custom_plans FROM pg_prepared_statements WHERE name LIKE 'kameng_%%'"
        )
        return dict(cursor.fetchall())


@pytest.fixture
def _postgres():
    if connection.vendor != "postgresql":
        pytest.skip("server-side prepared statements are PostgreSQL's")


def test_a_statement_is_prepared_once_per_connection_then_run_by_name(_postgres):
    orders = _orders(2)
    query = PreparedQuery(lambda no: Order.objects.filter(no=no).exclude(no="prepared once"), no=str)
    before = _server_statements()

    first = query.fetch(no=orders[0].no)
    prepared_now = set(_server_statements()) - set(before)
    second = query.fetch(no=orders[1].no)

    assert [o.pk for o in first] == [orders[0].pk] and [o.pk for o in second] == [orders[1].pk]
    assert len(prepared_now) == 1  # the read, prepared at its first run on this connection
    (name,) = prepared_now
    assert _server_statements()[name] == 2  # and run by name twice, not prepared again


def test_a_prepared_statement_outlives_a_rolled_back_transaction(_postgres):
    order = _orders(1)[0]
    fresh = PreparedQuery(lambda no: Order.objects.filter(no=no).exclude(no="rolled back"), no=str)
    with pytest.raises(RuntimeError), transaction.atomic():
        assert fresh.fetch(no=order.no)
        raise RuntimeError("the transaction that prepared it is rolled back")

    assert [o.pk for o in fresh.fetch(no=order.no)] == [order.pk]


def test_a_failed_prepare_is_recovered_from_at_the_next_use(_postgres):
    order = _orders(1)[0]
    good = PreparedQuery(lambda no: Order.objects.filter(no=no).exclude(no="good"), no=str)
    broken = PreparedQuery(lambda no: Order.objects.filter(no=no).extra(where=["no_such_column = 1"]), no=str)
    with pytest.raises(DatabaseError), transaction.atomic():
        # The good read is prepared on the server in the same message, before the broken one fails.
        prepared.fetch_together((good, {"no": order.no}), (broken, {"no": order.no}))

    assert [o.pk for o in good.fetch(no=order.no)] == [order.pk]
    together = prepared.fetch_together((good, {"no": order.no}), (ORDERS, {"no": order.no}))
    assert [[o.pk for o in found] for found in together] == [[order.pk], [order.pk]]


def test_percent_signs_reach_the_server_as_written():
    name, prepare, execute = prepared._server_form("SELECT 1 WHERE a = %s AND b LIKE '50%%' AND c = %s")
    assert prepare == f"PREPARE {name} AS SELECT 1 WHERE a = $1 AND b LIKE '50%' AND c = $2"
    assert execute == f"EXECUTE {name}(%s, %s)"
    assert prepared._server_form("SELECT 1")[2] == f"EXECUTE {prepared._server_form('SELECT 1')[0]}"


def test_a_key_taken_ahead_is_the_key_the_row_is_written_with():
    buyer = f.buyer()
    first, second = prepared.fetch_together(
        (prepared.NextKey(Notice), {}), (prepared.NextKey(Notice), {}), (ORDERS, {"no": "none"})
    )[:2]
    if connection.vendor != "postgresql":
        assert first == second == []  # no sequence to take from: the caller inserts at once instead
        return
    assert first[0] != second[0]
    later = prepared.Later()
    later.insert([Notice(pk=second[0], user=buyer, text="先取号", link="")])
    later.flush()
    assert Notice.objects.get(pk=second[0]).text == "先取号"
    assert Notice.objects.create(user=buyer, text="later").pk not in (first[0], second[0])


def test_statements_the_server_lost_are_prepared_again(_postgres):
    order = _orders(1)[0]
    assert ORDERS.fetch(no=order.no)
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")  # as a pooler's reset would, behind our back

    with pytest.raises(DatabaseError), transaction.atomic():
        ORDERS.fetch(no=order.no)  # this one fails: the server no longer knows the statement

    assert [o.pk for o in ORDERS.fetch(no=order.no)] == [order.pk]


def test_a_statement_with_many_values_is_sent_as_it_is_not_prepared(_postgres):
    buyer = f.buyer()
    before = set(_server_statements())
    prepared.insert([Notice(user=buyer, text=f"批量{i}", link="") for i in range(80)], keys=False)

    assert Notice.objects.filter(user=buyer).count() == 80
    assert set(_server_statements()) == before  # 400 values: no shape of its own left on the server


def test_rows_inserted_together_all_bring_a_key_or_none_does():
    buyer = f.buyer()
    with pytest.raises(ValueError, match="all bring their own key"):
        prepared.insert([Notice(pk=10**9, user=buyer, text="a"), Notice(user=buyer, text="b")])
    assert not Notice.objects.filter(user=buyer).exists()
