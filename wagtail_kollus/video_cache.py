"""Rendering's per-process copy of the chosen-video rows, checked against the database each time.

A page with N ``KollusVideoBlock``s needs N ``KollusVideo`` rows and their library media.
Loading and building them (44 columns, dates parsed) costs more than rendering the page's
players, and the rows rarely change: they are written when an editor chooses a video, when
Kollus reports on a media file, and when a sync or refresh finds a video gone. So each process
keeps the field values of the rows it has loaded and builds fresh model instances from them for
every request (each block still gets its own instance, as from a query).

**Never stale.** Every ORM write to either table (``save()``, ``delete()``, and the querysets'
``update()``, ``bulk_create()`` and ``bulk_update()``) sets the one-row
:class:`~wagtail_kollus.models.VideoRowsGeneration` counter to a new random value, in the
writer's own transaction. Loading videos first reads that counter (one primary-key ``SELECT``)
and drops the process's copy when it moved; rows are kept under the value read *before* they
were loaded, so a copy can only be as old as the last write it saw. A video unpublished or
deleted in one process shows its placeholder on the next render in every process. Writes that
bypass the ORM (raw SQL, another application) must call :func:`invalidate`.

Without the counter row (a database flushed by a test, a migration not yet run) every load
queries the rows, as before.
"""

from __future__ import annotations

import copy
import logging
import secrets
import threading
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from django.core.exceptions import ValidationError
from django.db import (
    DEFAULT_DB_ALIAS,
    DatabaseError,
    IntegrityError,
    connections,
    models,
    router,
    transaction,
)
from django.db.models import Model, signals
from django.db.models.base import ModelState

logger = logging.getLogger("wagtail_kollus.video_cache")

# Rows kept per process before the copy starts again (a few MiB at most).
MAX_ROWS = 10_000


class _Rows:
    """The rows loaded under one generation: ``pk → (video fields, media fields or None)``."""

    __slots__ = ("generation", "rows")

    def __init__(self, generation: int) -> None:
        self.generation = generation
        self.rows: dict[Any, tuple[dict[str, Any], dict[str, Any] | None]] = {}


# One copy per database alias; replaced whole (never edited across generations), so a thread
# that read an older generation can only write into a copy nobody reads any more.
_copies: dict[str, _Rows] = {}
_lock = threading.Lock()


def _models() -> tuple[type[Model], type[Model], type[Model]]:
    from .models import KollusMedia, KollusVideo, VideoRowsGeneration

    return KollusVideo, KollusMedia, VideoRowsGeneration


@lru_cache(maxsize=8)
def _table_sql(using: str) -> tuple[str, str]:
    # Read on every page load: written once per database alias.
    generation_model = _models()[2]
    quote = connections[using].ops.quote_name
    table = quote(generation_model._meta.db_table)
    value = quote("value")
    return (
        f"SELECT {value} FROM {table} WHERE {quote('id')} = 1",  # noqa: S608 - names quoted, no input
        f"UPDATE {table} SET {value} = %s WHERE {quote('id')} = 1",  # noqa: S608
    )


# Database aliases where the counter's table is known to exist. Until it is (a deploy whose
# code is newer than its migrations), nothing is cached and writes change no counter.
_counter_tables: set[str] = set()
_missing_reported: set[str] = set()


def _counter_table_exists(using: str) -> bool:
    if using in _counter_tables:
        return True
    try:
        # A savepoint inside a transaction: on PostgreSQL a failed statement would otherwise
        # abort the caller's whole transaction.
        with transaction.atomic(using=using), connections[using].cursor() as cursor:
            cursor.execute(_table_sql(using)[0])
            cursor.fetchone()
    except DatabaseError:
        if using not in _missing_reported:  # once per process, not on every page
            _missing_reported.add(using)
            logger.warning(
                "The video rows counter table is missing (run manage.py migrate): rendering "
                "video blocks queries their rows every time until it exists."
            )
        return False
    _counter_tables.add(using)
    return True


def current_generation(using: str = DEFAULT_DB_ALIAS) -> int | None:
    """The counter's value, or ``None`` if its row is missing (then nothing is cached)."""
    if not _counter_table_exists(using):
        return None
    with connections[using].cursor() as cursor:
        cursor.execute(_table_sql(using)[0])
        row = cursor.fetchone()
    return None if row is None else row[0]


def rows_changed(model: type[Model] | None = None, *, using: str | None = None) -> None:
    """Mark every process's copy stale: a new counter value, in the current transaction."""
    alias = using or router.db_for_write(model or _models()[0])
    _copies.pop(alias, None)
    if not _counter_table_exists(alias):
        return  # no process caches rows without the table
    value = secrets.randbits(62)
    with connections[alias].cursor() as cursor:
        cursor.execute(_table_sql(alias)[1], [value])
        missing = cursor.rowcount == 0
    if missing:
        # A flushed table: put the row back so caching can resume.
        try:
            with transaction.atomic(using=alias):
                _models()[2].objects.using(alias).create(pk=1, value=value)
        except IntegrityError:
            pass  # another writer put it back first


def invalidate(using: str | None = None) -> None:
    """Call after writing ``KollusVideo`` or ``KollusMedia`` rows without the ORM."""
    rows_changed(using=using)


def forget_process_copy() -> None:
    """Drop this process's copy only (tests, benchmarks); other processes keep theirs."""
    _copies.clear()


def _field_values(instance: Model) -> dict[str, Any]:
    state = instance.__dict__
    return {field.attname: state[field.attname] for field in instance._meta.concrete_fields}


@lru_cache(maxsize=8)
def _mutable_attnames(model: type[Model]) -> tuple[str, ...]:
    # JSON fields hold lists and dicts: each instance gets its own copy, never a shared one.
    return tuple(
        field.attname
        for field in model._meta.concrete_fields
        if field.get_internal_type() == "JSONField"
    )


class _Builder:
    """Builds instances of one model from cached field values, as ``Model.from_db`` would."""

    def __init__(self, model: type[Model], using: str) -> None:
        self.model = model
        self.using = using
        self.mutable = _mutable_attnames(model)

    def listened_to(self) -> bool:
        # Asked on every load: receivers come and go.
        return signals.pre_init.has_listeners(self.model) or signals.post_init.has_listeners(
            self.model
        )

    def __call__(self, values: dict[str, Any], via_init: bool) -> Model:
        if via_init:
            # Someone listens to instance creation: build it the way a query does.
            names = list(values)
            return self.model.from_db(
                self.using, names, [copy.deepcopy(values[name]) for name in names]
            )
        instance = self.model.__new__(self.model)
        fields = instance.__dict__
        fields.update(values)  # what __init__ would set, without its per-field work
        for name in self.mutable:
            fields[name] = copy.deepcopy(fields[name])
        state = ModelState()
        state.adding = False
        state.db = self.using
        fields["_state"] = state
        return instance


@lru_cache(maxsize=16)
def _builder(model: type[Model], using: str) -> _Builder:
    return _Builder(model, using)


def _clean_ids(model: type[Model], ids: Iterable[Any]) -> list[Any]:
    # Stored pks may be strings (older revisions, imports): the copy is keyed by real pks.
    to_python = model._meta.pk.to_python
    cleaned = []
    for pk in ids:
        if pk is None:
            continue
        if type(pk) is not int:
            try:
                pk = to_python(pk)
            except (TypeError, ValueError, ValidationError):
                continue
        cleaned.append(pk)
    return list(dict.fromkeys(cleaned))


def _rows_for(using: str, generation: int, *, fresh: bool = False) -> dict[Any, Any]:
    copy_ = _copies.get(using)
    if fresh or copy_ is None or copy_.generation != generation:
        with _lock:
            copy_ = _copies.get(using)
            if fresh or copy_ is None or copy_.generation != generation:
                copy_ = _copies[using] = _Rows(generation)
    return copy_.rows


def load_videos(ids: Iterable[Any]) -> dict[Any, Model]:
    """``pk → KollusVideo`` (library media joined) for ``ids``: at most one row query.

    Returns new instances on every call, keyed by real pks (a stored ``"5"`` is found as
    ``5``). ``ids`` that do not exist are simply absent.
    """
    video_model, media_model, _ = _models()
    wanted = _clean_ids(video_model, ids)
    if not wanted:
        return {}
    using = router.db_for_read(video_model)
    generation = current_generation(using)
    if generation is None:
        return video_model.objects.select_related("media").in_bulk(wanted)
    rows = _rows_for(using, generation)
    entries = {pk: rows[pk] for pk in wanted if pk in rows}
    missing = [pk for pk in wanted if pk not in entries]
    if missing:
        loaded = video_model.objects.select_related("media").in_bulk(missing)
        fresh = {
            pk: (_field_values(video), _field_values(video.media) if video.media_id else None)
            for pk, video in loaded.items()
        }
        entries.update(fresh)
        if len(rows) + len(fresh) > MAX_ROWS:
            # Start again rather than grow without bound, keeping what this page needs.
            rows = _rows_for(using, generation, fresh=True)
            fresh = entries
        if len(rows) + len(fresh) <= MAX_ROWS:
            rows.update(fresh)
        # else: one page wants more rows than a copy may hold: serve them, keep none.
    media_field = video_model._meta.get_field("media")
    build_video, build_media = _builder(video_model, using), _builder(media_model, using)
    video_via_init, media_via_init = build_video.listened_to(), build_media.listened_to()
    result = {}
    for pk in wanted:
        entry = entries.get(pk)
        if entry is None:
            continue
        video = build_video(entry[0], video_via_init)
        media = build_media(entry[1], media_via_init) if entry[1] is not None else None
        media_field.set_cached_value(video, media)
        result[pk] = video
    return result


def _on_write(sender: type[Model], *, using: str = DEFAULT_DB_ALIAS, **kwargs: Any) -> None:
    rows_changed(sender, using=using)


def _referenced_models(model: type[Model]) -> set[type[Model]]:
    """Models whose deletion rewrites ``model``'s rows without sending ``model``'s signals."""
    unsignalled = (models.CASCADE, models.PROTECT, models.RESTRICT, models.DO_NOTHING)
    return {
        field.remote_field.model
        for field in model._meta.concrete_fields
        if field.many_to_one and field.remote_field.on_delete not in unsignalled
    }


def connect_receivers() -> None:
    """Called from ``AppConfig.ready``: every ORM write that can change the rows marks them stale.

    Instance saves and deletes of both models; querysets' bulk writes are covered by
    ``VideoRowsQuerySet``; and deleting a row they point at with ``SET_NULL`` (or
    ``SET_DEFAULT``/``SET()``), which Django applies as a bulk update without signals.
    """
    video_model, media_model, _ = _models()
    ours = (video_model, media_model)
    for model in ours:
        label = model._meta.label
        signals.post_save.connect(_on_write, sender=model, dispatch_uid=f"kollus-rows-save-{label}")
        signals.post_delete.connect(
            _on_write, sender=model, dispatch_uid=f"kollus-rows-del-{label}"
        )
    for referenced in set().union(*map(_referenced_models, ours)) - set(ours):
        signals.post_delete.connect(
            # Our rows point at it with SET_NULL/SET_DEFAULT/SET(): its deletion updates them in
            # bulk, without their own signals (a deleted user clears KollusMedia.uploaded_by).
            _on_write,
            sender=referenced,
            dispatch_uid=f"kollus-rows-ref-{referenced._meta.label}",
        )
