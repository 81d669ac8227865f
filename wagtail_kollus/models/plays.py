"""Plays the play callback approved: what the per-viewer stream limit counts.

One row per viewer and device (``cuid``, ``device``): a device asking again (Kollus's kind 3
after kind 1, a reload) renews its row instead of counting twice. A row counts as a stream
until ``expires_at`` (the ``expiration_date`` the callback answered); the sweep deletes rows
that have expired. The index on (``cuid``, ``expires_at``) keeps the count one index range
whatever the number of viewers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from django.db import models, router
from django.db.models.constants import OnConflict
from django.utils.translation import gettext_lazy as _

from ..prepared import PreparedStatement, Slot, prepare_insert, prepare_select, sentinel_for

# What a device asking again changes in its row.
_RENEWED_FIELDS = ("media_content_key", "page_id", "expires_at")


# A device asking again this soon after its approval (Kollus's kind 3 follows kind 1 within
# seconds) keeps its row: renewing it would move its end by those seconds only, for one write.
RENEWAL_SLACK = timedelta(seconds=60)


@dataclass(frozen=True)
class Streams:
    """What :meth:`ApprovedPlay.streams` read: ``others``, the viewer's other devices still
    playing (counted up to the limit), and ``own``, this device's live row (its
    ``_RENEWED_FIELDS``), when it was among the rows read."""

    others: int
    own: dict[str, Any] | None

    def needs_writing(
        self, media_content_key: str, page_id: int | None, expires_at: datetime
    ) -> bool:
        """Whether this device's approval must be written (or renewed) for this play."""
        own = self.own
        return (
            own is None
            or (own["media_content_key"], own["page_id"]) != (media_content_key, page_id)
            or own["expires_at"] < expires_at - RENEWAL_SLACK
        )


class ApprovedPlay(models.Model):
    cuid = models.CharField(_("viewer ID"), max_length=200)
    device = models.CharField(_("device"), max_length=200)
    media_content_key = models.CharField(_("media content key"), max_length=100)
    page_id = models.BigIntegerField(_("page ID"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires at"))

    class Meta:
        verbose_name = _("approved play")
        verbose_name_plural = _("approved plays")
        constraints = [
            models.UniqueConstraint(fields=("cuid", "device"), name="wk_play_viewer_device"),
        ]
        indexes = [models.Index(fields=("cuid", "expires_at"), name="wk_play_viewer_expiry")]

    def __str__(self) -> str:
        return f"{self.cuid} on {self.device} until {self.expires_at:%Y-%m-%d %H:%M}"

    @classmethod
    def record(cls, **fields: Any) -> None:
        """Insert this device's approval, or renew its row: one statement, the ``INSERT … ON
        CONFLICT … DO UPDATE`` of ``bulk_create(update_conflicts=True)`` without the
        transaction it opens (``BEGIN``/``COMMIT``: two more round trips for a statement that
        is atomic anyway), compiled once (:mod:`wagtail_kollus.prepared`): the play callback
        writes it on every approved play."""
        using = router.db_for_write(cls)
        _upsert_statement(using).execute(using, **fields)

    @classmethod
    def streams(cls, cuid: str, device: str, now: datetime, limit: int) -> Streams:
        """The viewer's streams at ``now`` as the stream limit needs them: one indexed read of
        at most ``limit + 1`` rows, compiled once (the play callback asks it on every approved
        play). Counting further would not change the answer: the limit is reached or not."""
        using = router.db_for_read(cls)
        rows = _live_statement(using, limit + 1).fetchall(using, cuid=cuid, now=now)
        own = next((row for row in rows if row["device"] == device), None)
        return Streams(others=min(len(rows) - (own is not None), limit), own=own)

    @classmethod
    def delete_expired(cls) -> int:
        """Delete the rows that no longer count (the sweep calls it); returns how many."""
        from django.utils import timezone

        deleted, _by_model = cls.objects.filter(expires_at__lte=timezone.now()).delete()
        return deleted


@lru_cache(maxsize=8)
def _upsert_statement(using: str) -> PreparedStatement:
    return prepare_insert(
        ApprovedPlay,
        using=using,
        on_conflict=OnConflict.UPDATE,
        update_fields=_RENEWED_FIELDS,
        unique_fields=("cuid", "device"),
    )


@lru_cache(maxsize=32)
def _live_statement(using: str, rows: int) -> PreparedStatement:
    opts = ApprovedPlay._meta
    cuid, expires_at = opts.get_field("cuid"), opts.get_field("expires_at")
    slots = {
        "cuid": Slot(sentinel_for(cuid, 0), cuid),
        "now": Slot(sentinel_for(expires_at, 1), expires_at),
    }
    query = (
        ApprovedPlay.objects.using(using)
        .filter(cuid=slots["cuid"].sentinel, expires_at__gt=slots["now"].sentinel)
        .order_by()
        .values("device", *_RENEWED_FIELDS)[:rows]
    )
    return prepare_select(query, slots)
