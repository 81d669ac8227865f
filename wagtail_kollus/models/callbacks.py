"""The log of Kollus platform callbacks: one row per distinct delivery.

Kollus retries a callback that was not answered with 200 in time (every 5 minutes, up to 3
more times), so the same delivery can arrive several times. The ``fingerprint`` (a hash of the
kind and the whole payload) is unique: a repeat finds the row and changes nothing.

The endpoint writes its row with :func:`prepare_insert`, one prepared ``INSERT`` instead of the
ORM's per-object machinery (see ``docs/callbacks.md``, "Throughput").
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.db import connections, models
from django.utils.translation import gettext_lazy as _

from .leased import LeasedWork


class CallbackKind(models.TextChoices):
    UPLOAD = "upload", _("Upload")
    TRANSCODING = "transcoding", _("Transcoding")
    CONTENT_UPDATE = "content-update", _("Content update")
    CHANNEL_ADD = "channel-add", _("Channel add")
    CHANNEL_DELETE = "channel-delete", _("Channel delete")


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    PROCESSING = "processing", _("Processing")
    PROCESSED = "processed", _("Processed")
    # Kollus does not know the upload file key (or it belongs to nobody we track).
    IGNORED = "ignored", _("Ignored")
    FAILED = "failed", _("Failed")


def delivery_fingerprint(kind: str, payload: dict[str, str]) -> str:
    """sha256 of the kind and the payload with sorted keys: identical deliveries collide."""
    canonical = json.dumps([kind, sorted(payload.items())], separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class _InsertStatement:
    fields: list[models.Field]
    attnames: frozenset[str]
    sql: str
    # attname -> database value of a constant default (a status, a counter's 1, ""): adapted
    # once, not per row.
    constant_defaults: dict[str, Any]


# (model, database vendor) -> its INSERT. Quoting depends only on the vendor, and a model's
# fields never change at run time.
_INSERTS: dict[tuple[type[models.Model], str], _InsertStatement] = {}


def _constant_default(field: models.Field) -> bool:
    """The field's default is one plain value for every row (not a callable such as ``dict``)."""
    if field.has_default() and callable(field.default):
        return False
    default = field.get_default()
    return isinstance(default, str | int) or (default is None and field.null)


def _insert_statement(model: type[models.Model], connection: Any) -> _InsertStatement:
    key = (model, connection.vendor)
    if key not in _INSERTS:
        fields = [f for f in model._meta.concrete_fields if not isinstance(f, models.AutoField)]
        quote = connection.ops.quote_name
        # Only quoted identifiers from the model go into the text; values are parameters.
        sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608
            quote(model._meta.db_table),
            ", ".join(quote(f.column) for f in fields),
            ", ".join(["%s"] * len(fields)),
        )
        constants = {
            f.attname: f.get_db_prep_save(f.get_default(), connection)
            for f in fields
            if _constant_default(f)
        }
        _INSERTS[key] = _InsertStatement(fields, frozenset(f.attname for f in fields), sql, constants)
    return _INSERTS[key]


@dataclass(frozen=True)
class PreparedInsert:
    """One row's ``INSERT``, its values already adapted for database ``using``."""

    using: str
    sql: str
    params: list[Any]

    def execute(self) -> None:
        with connections[self.using].cursor() as cursor:
            cursor.execute(self.sql, self.params)


def prepare_insert(model: type[models.Model], values: dict[str, Any], *, using: str) -> PreparedInsert:
    """Prepare the ``INSERT`` of one ``model`` row; a field missing from ``values`` takes its default.

    For the callback endpoint, whose write lock is the bottleneck: ``Model.objects.create()``
    spends several times the statement's own cost in Python (instance, save signals, SQL
    compilation), and spends it while holding the lock. Here the statement is built once per
    model, each value goes through the field's own ``get_db_prep_save`` (so every backend gets
    what the ORM would send), and all of it happens before the transaction: inside it, only
    ``execute()`` runs. Like ``bulk_create``: no ``pre_save``/``post_save`` signals, no primary
    key. Database errors (``IntegrityError``…) propagate from ``execute()`` as usual.
    """
    connection = connections[using]
    statement = _insert_statement(model, connection)
    unknown = values.keys() - statement.attnames
    if unknown:
        raise TypeError(f"{model.__name__} has no field(s) {sorted(unknown)} to insert")
    params = []
    for field in statement.fields:
        if field.attname not in values and field.attname in statement.constant_defaults:
            params.append(statement.constant_defaults[field.attname])
            continue
        value = values[field.attname] if field.attname in values else field.get_default()
        if value is None and not field.null:
            # A forgotten column (e.g. an auto_now_add date) must not become a NOT NULL
            # IntegrityError, which the endpoint would take for a duplicate delivery.
            raise TypeError(f"{model.__name__}.{field.attname} needs a value to insert")
        params.append(field.get_db_prep_save(value, connection))
    return PreparedInsert(using, statement.sql, params)


class CallbackDelivery(LeasedWork):
    """One distinct delivery, and the worker's lease on processing it (``LeasedWork``).

    ``queued`` deliveries wait for a worker (or, with ``next_attempt_at``, for their retry);
    ``processing`` ones are held by a worker until ``claimed_until``, after which another
    worker takes them over. ``attempts`` counts failed attempts.
    """

    kind = models.CharField(_("kind"), max_length=20, choices=CallbackKind.choices)
    fingerprint = models.CharField(max_length=64, unique=True)
    upload_file_key = models.CharField(_("upload file key"), max_length=100, db_index=True)
    payload = models.JSONField(_("payload"), default=dict)
    status = models.CharField(
        _("status"), max_length=20, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED
    )
    # How many times this exact delivery arrived (1 = once). Repeats are normal, not errors.
    times_received = models.PositiveIntegerField(default=1)
    error_message = models.TextField(_("error"), blank=True)
    received_at = models.DateTimeField(_("received"), auto_now_add=True, db_index=True)
    last_received_at = models.DateTimeField(_("last received"), auto_now_add=True)
    processed_at = models.DateTimeField(_("processed"), null=True, blank=True)

    class Meta:
        verbose_name = _("Kollus callback delivery")
        verbose_name_plural = _("Kollus callback deliveries")
        ordering = ["-received_at"]
        # The sweep looks for the few open deliveries in a log that only grows; the callback
        # log shows its newest page, whole or filtered by status or kind, by index.
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="kollus_callback_due_idx"),
            models.Index(fields=["-received_at", "-id"], name="kollus_callback_newest_idx"),
            models.Index(
                fields=["status", "-received_at", "-id"], name="kollus_callback_status_idx"
            ),
            models.Index(fields=["kind", "-received_at", "-id"], name="kollus_callback_kind_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.upload_file_key}"
