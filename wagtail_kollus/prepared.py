"""ORM statements compiled once per database and query shape, then run with new values.

Kollus asks the play callback before every play and again when the player is ready, and waits
for the answer. For such small, indexed statements, Django building and compiling the query
costs 10 to 50 times what the database then spends running it (``benchmarks/gate.py``: the
page privacy query ~1 ms to build, ~20 µs to run on SQLite). So the callback's statements are
compiled once: the query is built with the ORM as usual, with a *sentinel* in place of each
value that changes from run to run; its SQL and parameters are kept, with the positions where
each sentinel's database value appears. A run copies the parameters, puts each new value there
— converted by its field exactly as the ORM converts it — and executes the SQL.

The SQL is still Django's own: the backend's dialect and quoting, a custom user model, a
swapped page model, the ``ON CONFLICT`` clause of ``bulk_create``. What this skips is only the
building. A sentinel the compiled parameters do not contain (a backend that writes a value into
the SQL text instead) is an error at the first run, not a wrong answer: the tests run every
prepared statement on SQLite and PostgreSQL. Results of a ``SELECT`` go through the same
converters the ORM applies (``SQLCompiler.get_converters``), with the running thread's
connection. ``progress.statements`` is the LMS callback's hand-written equivalent.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import connections, models
from django.db.models import Field, Model, QuerySet
from django.db.models.constants import OnConflict
from django.db.models.sql.subqueries import InsertQuery

# (position in the parameters, how to convert a value for the database)
_Position = tuple[int, Callable[[Any, Any], Any]]


@dataclass(frozen=True)
class Slot:
    """A value that changes from run to run: the query is built with ``sentinel``, a value no
    real run passes and no other parameter of the query equals (a negative integer, a string
    with a NUL), and ``field`` converts each run's value as the ORM does (``None``: as is)."""

    sentinel: Any
    field: Field | None = None


class UnpreparedValue(RuntimeError):
    """A slot's sentinel is not among the compiled parameters: this backend cannot prepare it."""


@dataclass(frozen=True)
class PreparedStatement:
    """One compiled statement: run it with :meth:`fetchall` (a ``SELECT``) or :meth:`execute`."""

    sql: str
    params: tuple[Any, ...]
    positions: Mapping[str, tuple[_Position, ...]]
    columns: tuple[str, ...] = ()
    # For a SELECT: (column index, the ORM's converters, the column's expression)
    converters: tuple[tuple[int, tuple[Any, ...], Any], ...] = ()

    def _params(self, values: Mapping[str, Any], connection: Any) -> list[Any]:
        if values.keys() != self.positions.keys():
            raise TypeError(f"Expected values for {sorted(self.positions)}, got {sorted(values)}.")
        params = list(self.params)
        for name, positions in self.positions.items():
            for index, convert in positions:
                params[index] = convert(values[name], connection)
        return params

    def execute(self, using: str, **values: Any) -> int:
        """Run the statement with ``values`` (one per slot); how many rows it changed."""
        connection = connections[using]
        with connection.cursor() as cursor:
            cursor.execute(self.sql, self._params(values, connection))
            return cursor.rowcount

    def fetchall(self, using: str, **values: Any) -> list[dict[str, Any]]:
        """Run the ``SELECT`` with ``values``; its rows as dicts, as ``QuerySet.values()``."""
        connection = connections[using]
        with connection.cursor() as cursor:
            cursor.execute(self.sql, self._params(values, connection))
            rows = cursor.fetchall()
        if self.converters:
            rows = [list(row) for row in rows]
            for row in rows:
                for index, converters, expression in self.converters:
                    for convert in converters:
                        row[index] = convert(row[index], expression, connection)
        return [dict(zip(self.columns, row, strict=True)) for row in rows]


def _find_positions(
    params: Sequence[Any], slots: Mapping[str, Slot], connection: Any, *, saving: bool
) -> dict[str, tuple[_Position, ...]]:
    positions: dict[str, tuple[_Position, ...]] = {}
    for name, slot in slots.items():
        convert = _converter(slot.field, saving=saving)
        expected = convert(slot.sentinel, connection)
        # ``type`` too: True == 1, and a sentinel must not match a constant of another type.
        found = tuple(
            (index, convert)
            for index, param in enumerate(params)
            if type(param) is type(expected) and param == expected
        )
        if not found:
            raise UnpreparedValue(
                f"The {connection.vendor} backend wrote {name!r} into the SQL text: "
                "this statement cannot be prepared."
            )
        positions[name] = found
    return positions


def _converter(field: Field | None, *, saving: bool) -> Callable[[Any, Any], Any]:
    if field is None:
        return lambda value, connection: value
    if saving:  # what SQLInsertCompiler.prepare_value does
        return lambda value, connection: field.get_db_prep_save(value, connection)
    # what a lookup does with its right-hand side (get_db_prep_lookup)
    return lambda value, connection: field.get_db_prep_value(value, connection, prepared=False)


def prepare_select(queryset: QuerySet, slots: Mapping[str, Slot]) -> PreparedStatement:
    """Compile ``queryset`` (a ``.values(...)`` query built with the slots' sentinels) once."""
    alias = queryset.db
    connection = connections[alias]
    compiler = queryset.query.get_compiler(using=alias)
    sql, params = compiler.as_sql()
    query = queryset.query
    columns = (*query.extra_select, *query.values_select, *query.annotation_select)
    expressions = [selected[0] for selected in compiler.select]
    if len(columns) != len(expressions):
        raise ValueError("prepare_select() takes a .values(...) query.")
    converters = tuple(
        (index, tuple(found), expression)
        for index, (found, expression) in compiler.get_converters(expressions).items()
    )
    return PreparedStatement(
        sql=sql,
        params=tuple(params),
        positions=_find_positions(params, slots, connection, saving=False),
        columns=columns,
        converters=converters,
    )


def sentinel_for(field: Field, n: int = 0) -> Any:
    """A sentinel for ``field`` (the ``n``-th of a statement: each must differ): a value of
    its type that no real row holds, within the range of its column (Django compiles a lookup
    on an integer out of range as "no rows", without a parameter)."""
    target = field.target_field if field.is_relation else field
    if isinstance(target, models.DateTimeField):
        return datetime(1901, 2, 3, 4, n // 60, n % 60, 789012, tzinfo=UTC)
    if isinstance(target, models.CharField | models.TextField):
        return f"\x00sentinel-{n}"
    if isinstance(target, models.SmallIntegerField):  # the positive ones too
        return 32_767 - n
    if isinstance(target, models.PositiveIntegerField | models.PositiveBigIntegerField):
        return 2_147_483_647 - n
    if isinstance(target, models.IntegerField):  # the big and auto ones too
        return -2_147_483_000 - n
    raise ValueError(f"No sentinel for {type(target).__name__} {field.name!r}.")


def prepare_insert(
    model: type[Model],
    *,
    using: str,
    on_conflict: OnConflict | None = None,
    update_fields: Sequence[str] = (),
    unique_fields: Sequence[str] = (),
) -> PreparedStatement:
    """Compile one row's ``INSERT`` of ``model`` once (what ``bulk_create`` writes, without
    its transaction: one statement is atomic anyway). Run it with a value for every concrete
    field but the primary key, by ``attname`` (``user_id`` for a foreign key ``user``);
    ``on_conflict`` and the field lists are ``bulk_create``'s."""
    opts = model._meta
    fields = [f for f in opts.concrete_fields if not f.primary_key]
    slots = {f.attname: Slot(sentinel_for(f, n), f) for n, f in enumerate(fields)}
    row = model(**{name: slot.sentinel for name, slot in slots.items()})
    query = InsertQuery(
        model,
        on_conflict=on_conflict,
        update_fields=[opts.get_field(name) for name in update_fields],
        unique_fields=[opts.get_field(name) for name in unique_fields],
    )
    query.insert_values(fields, [row])
    connection = connections[using]
    (sql, params), *more = query.get_compiler(using=using).as_sql()
    if more:  # pragma: no cover - one row is one statement on every backend Django ships
        raise ValueError("One row compiled to several statements.")
    return PreparedStatement(
        sql=sql,
        params=tuple(params),
        positions=_find_positions(params, slots, connection, saving=True),
    )
