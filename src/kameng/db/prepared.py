"""The refund hot path's reads and writes, compiled once per process.

Django turns a QuerySet into SQL anew every time it runs. For the objective refund that cost more
than the database did (the order's lock query alone took ~0.7 ms to compile and ~0.05 ms to run),
so the statements on that path are built once and then run with new values:

- `PreparedQuery`: a read whose shape never changes (the same filters, select_related and
  annotations each time, parameters used as plain values: exact lookups, `in` with a fixed number
  of items); its rows become model instances exactly as QuerySet iteration makes them
  (`ModelIterable`, Django 5.2).
- `insert`, `insert_unless_exists`, `update`: the SQL `save()`/`bulk_create()` would write.
- `fetch_together`: several such reads in one PostgreSQL round trip.
- `Later`: writes nobody reads back, sent together at the end (one PostgreSQL round trip).

Everything else keeps using the ORM as usual.
"""

import functools
import hashlib
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass

from django.db import DatabaseError, connections, models
from django.db.models import QuerySet
from django.db.models.query import ModelIterable, ValuesListIterable, get_related_populators

try:
    from psycopg import _queries as _psycopg_queries
except ImportError:  # pragma: no cover - psycopg is a dependency; SQLite-only installs still work
    _psycopg_queries = None

if _psycopg_queries is not None:
    # psycopg parses a client-bound query for its placeholders on every call unless the query has at
    # most 50 parameters (then the parse is cached, 128 queries at most). The batched writes below
    # have more, and re-parsing them cost about as much as sending them (measured: ~0.4 ms a refund).
    _psycopg_queries.MAX_CACHED_STATEMENT_PARAMS = max(_psycopg_queries.MAX_CACHED_STATEMENT_PARAMS, 1000)


# --- sending ---------------------------------------------------------------------------------------
# On PostgreSQL each statement here is prepared on the server once per connection (PREPARE) and then
# run by name (EXECUTE): the server parses and plans it once instead of on every refund (the order
# lock and the holdings sum each took ~0.33 ms to plan and ~0.1 ms to run). EXECUTE is plain SQL, so
# Django's client-side parameter binding still sends several statements in one message.


class _ServerStatements:
    """The statements prepared on one database connection (kept on psycopg's connection object,
    which lives as long as the server session and its prepared statements)."""

    def __init__(self):
        self.names: set[str] = set()
        # A PREPARE message failed part way, or the server lost statements: which exist is unknown.
        self.unsure = False


_ATTR = "_kameng_statements"
_PLACEHOLDER = re.compile(r"%%|%s")
# A statement with more parameters than this (a bulk insert of many rows, one shape per row count)
# is sent as it is: preparing each such shape would pile up prepared statements on the server.
_PREPARE_AT_MOST = 300
# The server no longer has the statement (someone ran DEALLOCATE or DISCARD), or a migration changed
# what it returns: prepare everything again at the next use.
_STATEMENTS_LOST = {"26000", "0A000"}


@functools.cache
def _server_form(sql: str) -> tuple[str, str, str]:
    """(name, PREPARE statement, EXECUTE statement with %s for its arguments) for one statement."""
    count = 0

    def number(match):
        nonlocal count
        if match.group() == "%%":
            return "%"
        count += 1
        return f"${count}"

    body = _PLACEHOLDER.sub(number, sql)
    name = "kameng_" + hashlib.blake2b(sql.encode(), digest_size=12).hexdigest()
    arguments = f"({', '.join(['%s'] * count)})" if count else ""
    return name, f"PREPARE {name} AS {body}", f"EXECUTE {name}{arguments}"


def _execute(connection, cursor, statements: list[tuple[str, list]]) -> None:
    """Run `statements` (SQL with %s placeholders, values) in order. On PostgreSQL they go as one
    message of EXECUTEs (client-side binding allows several statements in one execute), after one
    message preparing those this connection has not prepared yet."""
    if connection.vendor != "postgresql":
        for sql, values in statements:
            cursor.execute(sql, values)
        return
    raw = connection.connection
    known = raw.__dict__.get(_ATTR)
    if known is None:
        known = raw.__dict__[_ATTR] = _ServerStatements()
    forms = [
        _server_form(sql) if len(values) <= _PREPARE_AT_MOST else (None, None, sql)
        for sql, values in statements
    ]
    if known.unsure:
        known.names.clear()
    missing = {name: prepare for name, prepare, _e in forms if name is not None and name not in known.names}
    if missing:
        # PREPARE is not undone by a rollback, so a prepared statement outlives a failed transaction;
        # if this message fails part way, start again from none at the next use.
        prefix = ["DEALLOCATE ALL"] if known.unsure else []
        known.unsure = True
        cursor.execute("; ".join([*prefix, *missing.values()]))
        known.unsure = False
        known.names.update(missing)
    try:
        cursor.execute("; ".join(e for _n, _p, e in forms), [v for _s, values in statements for v in values])
    except DatabaseError as error:
        if getattr(error.__cause__, "sqlstate", None) in _STATEMENTS_LOST:
            known.unsure = True
        raise


@dataclass(frozen=True)
class _Compiled:
    sql: str
    slots: tuple  # for each SQL parameter: ("param", name) or ("const", value)
    compiler: object
    init_list: list[str]
    start: int
    end: int
    populators: list
    annotations: dict
    locks: bool
    models: bool
    converters: dict  # as results_iter() would find them each time (no composite keys here)

    def rows(self, rows: list, using: str) -> list:
        """Raw rows as QuerySet iteration returns them: model instances (or tuples)."""
        if self.compiler.has_extra_select:  # as Django's execute_sql: drop the ordering-only columns
            rows = [row[: self.compiler.col_count] for row in rows]
        if self.converters:
            rows = map(tuple, self.compiler.apply_converters(rows, self.converters))
        if not self.models:
            return list(rows)
        model = self.compiler.klass_info["model"]
        out = []
        for row in rows:
            obj = model.from_db(using, self.init_list, row[self.start : self.end])
            for populator in self.populators:
                populator.populate(row, obj)
            for name, pos in self.annotations.items():
                setattr(obj, name, row[pos])
            out.append(obj)
        return out


class _Read:
    """A read that runs alone (`fetch`) or with others (`fetch_together`)."""

    def fetch(self, *, using: str = "default", **params) -> list:
        connection = connections[using]
        with connection.cursor() as cursor:
            return self._fetch_on(cursor, connection, params)

    def _fetch_on(self, cursor, connection, params: dict) -> list:
        compiled, sql, values = self._statement(connection.alias, params)
        _execute(connection, cursor, [(sql, values)])
        return compiled.rows(cursor.fetchall(), connection.alias)

    def _statement(self, using: str, params: dict) -> tuple:
        raise NotImplementedError


class PreparedQuery(_Read):
    """`PreparedQuery(build, no=str)`: `build(no=...)` returns the QuerySet; `.fetch(no="KM1")` runs
    it and returns model instances (or tuples, for a values_list). Each keyword gives a parameter's
    type (int or str), used to mark where it lands in the SQL."""

    def __init__(self, build: Callable[..., QuerySet], **param_types: type):
        self._build = build
        self._types = param_types
        self._compiled: dict[str, _Compiled] = {}
        self._lock = threading.Lock()

    def _marks(self) -> dict[str, object]:
        marks = {}
        for n, (name, kind) in enumerate(sorted(self._types.items())):
            # Values no real row carries, distinct per parameter, of the type the lookup expects.
            marks[name] = -(2**31) + 7919 * (n + 1) if kind is int else f"\x01prepared:{name}\x01"
        return marks

    def _compile(self, alias: str) -> _Compiled:
        marks = self._marks()
        qs = self._build(**marks)
        compiler = qs.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        by_value = {value: name for name, value in marks.items()}
        slots = tuple(
            ("param", by_value[p]) if isinstance(p, int | str) and p in by_value else ("const", p)
            for p in params
        )
        if sorted(name for kind, name in slots if kind == "param") != sorted(marks):
            raise ValueError("every parameter must appear exactly once in the query as a plain value")
        klass_info = compiler.klass_info
        selected = [s[0] for s in compiler.select[0 : compiler.col_count]]
        if compiler.has_composite_fields(selected):
            raise ValueError("composite primary keys are not supported")
        converters = compiler.get_converters(selected)
        if qs._iterable_class is ValuesListIterable:  # rows come back as tuples
            return _Compiled(
                sql, slots, compiler, [], 0, 0, [], {}, bool(qs.query.select_for_update), False, converters
            )
        if qs._iterable_class is not ModelIterable:
            raise ValueError("only model querysets and plain values_list() can be prepared")
        select_fields = klass_info["select_fields"]
        start, end = select_fields[0], select_fields[-1] + 1
        return _Compiled(
            sql=sql,
            slots=slots,
            compiler=compiler,
            init_list=[f[0].target.attname for f in compiler.select[start:end]],
            start=start,
            end=end,
            populators=get_related_populators(klass_info, compiler.select, alias),
            annotations=dict(compiler.annotation_col_map or {}),
            locks=bool(qs.query.select_for_update),
            models=True,
            converters=converters,
        )

    def _statement(self, using: str, params: dict) -> tuple["_Compiled", str, list]:
        connection = connections[using]
        key = f"{using}:{connection.vendor}"
        compiled = self._compiled.get(key)
        if compiled is None:
            with self._lock:
                compiled = self._compiled.get(key) or self._compile(using)
                self._compiled[key] = compiled
        if compiled.locks and connection.get_autocommit():
            raise RuntimeError("a locking read must run inside a transaction")
        return compiled, compiled.sql, [params[v] if kind == "param" else v for kind, v in compiled.slots]


class NextKey(_Read):
    """A new primary key for `model`, taken from its sequence with the other reads of
    `fetch_together`, so that the row can be written later (`Later.insert`) along with the rows
    that point to it (PostgreSQL checks foreign keys at commit). The answer is `[key]` on
    PostgreSQL and `[]` where there is no sequence to take from (SQLite): the caller then inserts
    the row at once, as usual."""

    def __init__(self, model: type[models.Model]):
        self.model = model

    def _statement(self, using: str, params: dict) -> tuple["NextKey", str, list]:
        meta = self.model._meta
        return self, "SELECT nextval(pg_get_serial_sequence(%s, %s))", [meta.db_table, meta.pk.column]

    def rows(self, rows: list, using: str) -> list:
        return [key for (key,) in rows]

    def _fetch_on(self, cursor, connection, params: dict) -> list:
        if connection.vendor != "postgresql":  # no sequence to take from
            return []
        return super()._fetch_on(cursor, connection, params)


def fetch_together(*reads: tuple[_Read, dict], using: str = "default") -> list[list]:
    """Several prepared reads, answered as `fetch` answers each one. On PostgreSQL they go as one
    message (one round trip, one call into the driver); the server runs them in the order given,
    and each one sees what was committed before it started, as separate statements would."""
    connection = connections[using]
    if connection.vendor != "postgresql":  # one after the other, on one cursor
        with connection.cursor() as cursor:
            return [query._fetch_on(cursor, connection, params) for query, params in reads]
    statements = [query._statement(using, params) for query, params in reads]
    answers = []
    with connection.cursor() as cursor:
        # Each statement's rows are a result set of their own.
        _execute(connection, cursor, [(sql, values) for _c, sql, values in statements])
        for n, (compiled, _sql, _values) in enumerate(statements):
            if n:
                cursor.nextset()
            answers.append(compiled.rows(cursor.fetchall(), using))
    return answers


# --- writes ----------------------------------------------------------------------------------------
# Model.save() and QuerySet.bulk_create() compile their INSERT anew each time too. These write the
# same SQL Django would (every concrete column, values prepared by each field's own pre_save and
# get_db_prep_save, so auto_now_add and JSON columns behave alike) from statements built once per
# model. They send no model signals: use them only for models that have no receivers.


@functools.cache
def _insert_columns(model, using: str, keyed: bool = False) -> tuple[tuple, str, str]:
    """How to read each column's value (`_plan`) and the SQL of an insert; `keyed`: the rows bring
    their own primary key (`NextKey`)."""
    # Identifiers come from the model's meta and are quoted by the backend; values are parameters.
    qn = connections[using].ops.quote_name
    fields = [f for f in model._meta.concrete_fields if keyed or not (f.primary_key and f.db_returning)]
    head = f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) VALUES "  # noqa: S608
    returning = f" RETURNING {qn(model._meta.pk.column)}"
    return _plan(tuple(fields)), head, returning


def insert(objs, *, using: str = "default", keys: bool = True) -> None:
    """Insert new rows of one model in one statement and set their primary keys (`keys=False`:
    the caller needs no keys, as `Later` does; such rows must not be saved again through their
    objects, which have no key)."""
    objs = list(objs)
    if not objs:
        return
    connection = connections[using]
    sql, values = _insert_statement(objs, connection)
    with connection.cursor() as cursor:
        if not keys:
            _execute(connection, cursor, [(sql, values)])
            _inserted_without_keys(objs, using)
            return
        _execute(connection, cursor, [(sql + _insert_columns(type(objs[0]), using)[2], values)])
        found = cursor.fetchall()
    for obj, (key,) in zip(objs, found, strict=True):
        _stored(obj, key, using)


def _insert_statement(objs: list, connection) -> tuple[str, list]:
    keyed = objs[0].pk is not None
    if any((obj.pk is not None) is not keyed for obj in objs):
        raise ValueError("rows inserted together either all bring their own key or none does")
    plan, head, _returning = _insert_columns(type(objs[0]), connection.alias, keyed)
    values = [v for obj in objs for v in _values(obj, plan, connection, add=True, keep_stamps=keyed)]
    return head + ", ".join([_placeholders(plan)] * len(objs)), values


def _inserted_without_keys(objs: list, using: str) -> None:
    for obj in objs:
        obj._state.adding = False
        obj._state.db = using


def insert_unless_exists(obj, *, using: str = "default") -> bool:
    """Insert one new row unless that would break a unique constraint (a concurrent writer got
    there first). True when inserted, with its key set; no savepoint needed either way."""
    connection = connections[using]
    plan, head, returning = _insert_columns(type(obj), using)
    with connection.cursor() as cursor:
        _execute(
            connection,
            cursor,
            [
                (
                    head + _placeholders(plan) + " ON CONFLICT DO NOTHING" + returning,
                    _values(obj, plan, connection, add=True),
                )
            ],
        )
        found = cursor.fetchone()
    if found is None:
        return False
    _stored(obj, found[0], using)
    return True


# Fields whose save() preparation gives back a value of this exact type (or None) unchanged:
# the stock integer, text and boolean fields, and foreign keys to an integer key. Their values are
# passed as they are; anything else (another type, a subclass, a field with a pre_save of its own)
# goes through get_db_prep_save(pre_save()) as save() does.
_AS_IS = {
    models.AutoField: int,
    models.BigAutoField: int,
    models.IntegerField: int,
    models.BigIntegerField: int,
    models.SmallIntegerField: int,
    models.PositiveIntegerField: int,
    models.PositiveBigIntegerField: int,
    models.PositiveSmallIntegerField: int,
    models.CharField: str,
    models.TextField: str,
    models.BooleanField: bool,
}


@functools.cache
def _plan(fields: tuple) -> tuple:
    plan = []
    for f in fields:
        target = f.target_field if f.is_relation else f
        plain = _AS_IS.get(type(target)) if type(f).pre_save is models.Field.pre_save else None
        plan.append((f, f.attname, plain, bool(getattr(f, "auto_now_add", False))))
    return tuple(plan)


_UNSET = object()


def _values(obj, plan: tuple, connection, *, add: bool, keep_stamps: bool = False) -> list:
    """A row's values (`plan`: its columns), prepared as save() prepares them (auto_now_add, JSON...).
    `keep_stamps`: an auto_now_add time the row already carries is kept (a row with a key taken ahead
    was assembled earlier in the request; it was created then, not when it is finally written)."""
    values = []
    state = obj.__dict__
    for f, attname, plain, stamped in plan:
        if plain is not None:
            value = state.get(attname, _UNSET)  # a deferred field is read as save() reads it
            if value is None or type(value) is plain:
                values.append(value)
                continue
        if stamped and keep_stamps and state.get(attname) is not None:
            values.append(f.get_db_prep_save(state[attname], connection))
            continue
        values.append(f.get_db_prep_save(f.pre_save(obj, add), connection))
    return values


def _placeholders(fields) -> str:
    return "(" + ", ".join(["%s"] * len(fields)) + ")"


def _stored(obj, key, using: str) -> None:
    obj.pk = key
    obj._state.adding = False
    obj._state.db = using


def update(obj, fields, *, using: str = "default") -> None:
    """`obj.save(update_fields=fields)` for a row that exists, without compiling the UPDATE."""
    connection = connections[using]
    with connection.cursor() as cursor:
        _execute(connection, cursor, [_update_statement(obj, fields, connection)])


@functools.cache
def _update_columns(model, names: tuple, using: str) -> tuple[str, tuple]:
    meta = model._meta
    qn = connections[using].ops.quote_name
    columns = [meta.get_field(name) for name in names]
    sql = (  # identifiers from the model's meta, quoted; values are parameters
        f"UPDATE {qn(meta.db_table)} SET "  # noqa: S608
        + ", ".join(f"{qn(f.column)} = %s" for f in columns)
        + f" WHERE {qn(meta.pk.column)} = %s"
    )
    return sql, _plan(tuple(columns))


def _update_statement(obj, fields, connection) -> tuple[str, list]:
    model = type(obj)
    sql, plan = _update_columns(model, tuple(fields), connection.alias)
    return sql, [
        *_values(obj, plan, connection, add=False),
        model._meta.pk.get_db_prep_value(obj.pk, connection),
    ]


class Later:
    """Writes nobody reads back before the transaction ends, sent together at its end (`flush`):
    on PostgreSQL as one message (one round trip, one call into the driver). Keys are not set on
    inserted rows (unless they brought their own, `NextKey`)."""

    def __init__(self):
        self._ops: list[tuple] = []

    def insert(self, objs) -> None:
        objs = list(objs)
        if objs:
            self._ops.append((insert, objs))

    def update(self, obj, fields) -> None:
        self._ops.append((update, obj, list(fields)))

    def flush(self, using: str = "default") -> None:
        ops, self._ops = self._ops, []
        if not ops:
            return
        connection = connections[using]
        statements = [
            _insert_statement(op[1], connection)
            if op[0] is insert
            else _update_statement(op[1], op[2], connection)
            for op in ops
        ]
        with connection.cursor() as cursor:
            # In order, on one cursor; on PostgreSQL in one message, where the first error aborts
            # the rest, as one by one would.
            _execute(connection, cursor, statements)
        for op in ops:
            if op[0] is insert:
                _inserted_without_keys(op[1], using)
