"""The LMS callback's two statements, written once per database instead of once per report.

Building and compiling an ORM query costs several times what the database then spends running
it (``docs/callbacks.md``, "Throughput"; the ``gate`` benchmark's notes): for the busiest URL
of a course site, the row's read and its conditional update are built here once per database
alias and run as plain ``execute()`` calls. Values still go through each field's own
conversions (``get_db_prep_save`` on the way in, the backend's and the field's converters on
the way out), so every backend gets and gives what the ORM would.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from django.db import connections

from ..models import LearnerProgress

# What one report may change (the rest is fixed when the row is created).
UPDATED_FIELDS = (
    "watched_intervals",
    "watched_seconds",
    "duration",
    "percent",
    "last_position",
    "last_watched_at",
    "completed_at",
)


@dataclass(frozen=True)
class _Statements:
    select_sql: str
    select_fields: tuple[Any, ...]
    converters: tuple[tuple[int, tuple[Any, ...], Any], ...]  # (column, converters, column expr)
    update_sql: str
    update_fields: tuple[Any, ...]


@cache
def _statements(alias: str) -> _Statements:
    connection = connections[alias]
    quote = connection.ops.quote_name
    opts = LearnerProgress._meta
    table = quote(opts.db_table)
    fields = tuple(opts.concrete_fields)
    columns = ", ".join(quote(f.column) for f in fields)
    key = ("learner", "page", "media_content_key")
    where = " AND ".join(f"{quote(opts.get_field(name).column)} = %s" for name in key)
    converters = []
    for index, field in enumerate(fields):
        column = field.get_col(opts.db_table)
        found = connection.ops.get_db_converters(column) + field.get_db_converters(connection)
        if found:
            converters.append((index, tuple(found), column))
    updated = tuple(opts.get_field(name) for name in UPDATED_FIELDS)
    assignments = ", ".join(f"{quote(f.column)} = %s" for f in updated)
    revision = quote(opts.get_field("revision").column)
    # Only the model's own quoted table and column names are formatted in; values are params.
    return _Statements(
        select_sql=f"SELECT {columns} FROM {table} WHERE {where}",  # noqa: S608
        select_fields=fields,
        converters=tuple(converters),
        update_sql=(
            f"UPDATE {table} SET {assignments}, {revision} = %s"  # noqa: S608
            f" WHERE {quote(opts.pk.column)} = %s AND {revision} = %s"
        ),
        update_fields=updated,
    )


def read_row(
    learner_id: int, page_id: int, media_content_key: str, *, using: str = "default"
) -> LearnerProgress | None:
    """The learner's row for this video and page, or ``None`` (one ``SELECT``)."""
    statements = _statements(using)
    connection = connections[using]
    with connection.cursor() as cursor:
        cursor.execute(statements.select_sql, [learner_id, page_id, media_content_key])
        found = cursor.fetchone()
    if found is None:
        return None
    values = list(found)
    for index, converters, column in statements.converters:
        for convert in converters:
            values[index] = convert(values[index], column, connection)
    return LearnerProgress.from_db(using, [f.attname for f in statements.select_fields], values)


def update_row(row: LearnerProgress, *, using: str = "default") -> bool:
    """Write ``row``'s changing fields if it is still at its revision; whether it was."""
    statements = _statements(using)
    connection = connections[using]
    params = [
        f.get_db_prep_save(getattr(row, f.attname), connection) for f in statements.update_fields
    ]
    params += [row.revision + 1, row.pk, row.revision]
    with connection.cursor() as cursor:
        cursor.execute(statements.update_sql, params)
        written = cursor.rowcount == 1
    if written:
        row.revision += 1
    return written
