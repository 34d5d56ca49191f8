"""The refund hot path's reads and writes, compiled once per process.

Django turns a QuerySet into SQL anew every time it runs. For the objective refund that cost more
than the database did (the order's lock query alone took ~0.7 ms to compile and ~0.05 ms to run),
so the statements on that path are built once and then run with new values:

- `PreparedQuery`: a read whose shape never changes (the same filters, select_related and
  annotations each time, parameters used as plain values: exact lookups, `in` with a fixed number
  of items); its rows become model instances exactly as QuerySet iteration makes them
  (`ModelIterable`, Django 5.2).
- `insert`, `insert_unless_exists`, `update`: the SQL `save()`/`bulk_create()` would write.
- `batch`, `Later`: writes nobody reads back, sent together (one PostgreSQL round trip).

Everything else keeps using the ORM as usual.
"""

import contextlib
import functools
import threading
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connections
from django.db.models import QuerySet
from django.db.models.query import ModelIterable, ValuesListIterable, get_related_populators


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


class PreparedQuery:
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
        if qs._iterable_class is ValuesListIterable:  # rows come back as tuples
            return _Compiled(sql, slots, compiler, [], 0, 0, [], {}, bool(qs.query.select_for_update), False)
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
        )

    def fetch(self, *, using: str = "default", **params) -> list:
        connection = connections[using]
        key = f"{using}:{connection.vendor}"
        compiled = self._compiled.get(key)
        if compiled is None:
            with self._lock:
                compiled = self._compiled.get(key) or self._compile(using)
                self._compiled[key] = compiled
        if compiled.locks and connection.get_autocommit():
            raise RuntimeError("a locking read must run inside a transaction")
        values = [params[v] if kind == "param" else v for kind, v in compiled.slots]
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, values)
            rows = cursor.fetchall()
        if compiled.compiler.has_extra_select:  # as Django's execute_sql: drop the ordering-only columns
            rows = [row[: compiled.compiler.col_count] for row in rows]
        rows = compiled.compiler.results_iter(results=[rows], tuple_expected=True)
        if not compiled.models:
            return list(rows)
        model = compiled.compiler.klass_info["model"]
        out = []
        for row in rows:
            obj = model.from_db(using, compiled.init_list, row[compiled.start : compiled.end])
            for populator in compiled.populators:
                populator.populate(row, obj)
            for name, pos in compiled.annotations.items():
                setattr(obj, name, row[pos])
            out.append(obj)
        return out


# --- writes ----------------------------------------------------------------------------------------
# Model.save() and QuerySet.bulk_create() compile their INSERT anew each time too. These write the
# same SQL Django would (every concrete column, values prepared by each field's own pre_save and
# get_db_prep_save, so auto_now_add and JSON columns behave alike) from statements built once per
# model. They send no model signals: use them only for models that have no receivers.


@functools.cache
def _insert_columns(model, using: str) -> tuple[list, str, str]:
    # Identifiers come from the model's meta and are quoted by the backend; values are parameters.
    qn = connections[using].ops.quote_name
    fields = [f for f in model._meta.concrete_fields if not (f.primary_key and f.db_returning)]
    head = f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) VALUES "  # noqa: S608
    returning = f" RETURNING {qn(model._meta.pk.column)}"
    return fields, head, returning


def insert(objs, *, using: str = "default", keys: bool = True) -> None:
    """Insert new rows of one model in one statement and set their primary keys (`keys=False`:
    the caller needs no keys, so the statement waits for nothing inside a `batch()`; such rows
    must not be saved again through their objects, which have no key)."""
    objs = list(objs)
    if not objs:
        return
    connection = connections[using]
    fields, head, returning = _insert_columns(type(objs[0]), using)
    values = [v for obj in objs for v in _row(obj, fields, connection)]
    sql = head + ", ".join([_placeholders(fields)] * len(objs))
    with connection.cursor() as cursor:
        if not keys:
            cursor.execute(sql, values)
            for obj in objs:
                obj._state.adding = False
                obj._state.db = using
            return
        cursor.execute(sql + returning, values)
        found = cursor.fetchall()
    for obj, (key,) in zip(objs, found, strict=True):
        _stored(obj, key, using)


@contextlib.contextmanager
def batch(using: str = "default"):
    """Statements inside go to PostgreSQL together and are answered together (psycopg's pipeline
    mode): one round trip instead of one each. Only for statements whose results nobody reads
    (updates, inserts with `keys=False`); their errors are raised, as Django's, when the block ends.
    Elsewhere (SQLite) the statements simply run one by one."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        yield
        return
    connection.ensure_connection()
    with connection.wrap_database_errors, connection.connection.pipeline():
        yield


def insert_unless_exists(obj, *, using: str = "default") -> bool:
    """Insert one new row unless that would break a unique constraint (a concurrent writer got
    there first). True when inserted, with its key set; no savepoint needed either way."""
    connection = connections[using]
    fields, head, returning = _insert_columns(type(obj), using)
    with connection.cursor() as cursor:
        cursor.execute(
            head + _placeholders(fields) + " ON CONFLICT DO NOTHING" + returning,
            _row(obj, fields, connection),
        )
        found = cursor.fetchone()
    if found is None:
        return False
    _stored(obj, found[0], using)
    return True


def _row(obj, fields, connection) -> list:
    """A new row's values, prepared as save() prepares them (auto_now_add, JSON, ...)."""
    return [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]


def _placeholders(fields) -> str:
    return "(" + ", ".join(["%s"] * len(fields)) + ")"


def _stored(obj, key, using: str) -> None:
    obj.pk = key
    obj._state.adding = False
    obj._state.db = using


def update(obj, fields, *, using: str = "default") -> None:
    """`obj.save(update_fields=fields)` for a row that exists, without compiling the UPDATE."""
    connection = connections[using]
    meta = type(obj)._meta
    qn = connection.ops.quote_name
    columns = [meta.get_field(name) for name in fields]
    sql = (  # identifiers from the model's meta, quoted; values are parameters
        f"UPDATE {qn(meta.db_table)} SET "  # noqa: S608
        + ", ".join(f"{qn(f.column)} = %s" for f in columns)
        + f" WHERE {qn(meta.pk.column)} = %s"
    )
    values = [f.get_db_prep_save(f.pre_save(obj, False), connection) for f in columns]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*values, meta.pk.get_db_prep_value(obj.pk, connection)])


class Later:
    """Writes nobody reads back before the transaction ends, sent together at its end (`flush`):
    on PostgreSQL in one round trip (`batch`). Keys are not set on inserted rows."""

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
        with batch(using):
            for op in ops:
                if op[0] is insert:
                    insert(op[1], using=using, keys=False)
                else:
                    update(op[1], op[2], using=using)
