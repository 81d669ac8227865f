"""Plays the play callback approved: what the per-viewer stream limit counts.

One row per viewer and device (``cuid``, ``device``): a device asking again (Kollus's kind 3
after kind 1, a reload) renews its row instead of counting twice. A row counts as a stream
until ``expires_at`` (the ``expiration_date`` the callback answered); the sweep deletes rows
that have expired. The index on (``cuid``, ``expires_at``) keeps the count one index range
whatever the number of viewers.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models.constants import OnConflict
from django.utils.translation import gettext_lazy as _

# What a device asking again changes in its row.
_RENEWED_FIELDS = ("media_content_key", "page_id", "expires_at")


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
        """Insert this device's approval, or renew its row: one statement.

        ``bulk_create(update_conflicts=True)`` writes the same ``INSERT … ON CONFLICT … DO
        UPDATE``, but inside a transaction of its own, which costs two more round trips
        (``BEGIN``/``COMMIT``) for a single statement that is atomic anyway; the play
        callback has three queries to spend. ``QuerySet._insert`` is what it calls inside.
        """
        opts = cls._meta
        row = cls(**fields)
        cls.objects._insert(
            [row],
            fields=[f for f in opts.concrete_fields if not f.primary_key],
            on_conflict=OnConflict.UPDATE,
            update_fields=[opts.get_field(name) for name in _RENEWED_FIELDS],
            unique_fields=[opts.get_field("cuid"), opts.get_field("device")],
        )

    @classmethod
    def delete_expired(cls) -> int:
        """Delete the rows that no longer count (the sweep calls it); returns how many."""
        from django.utils import timezone

        deleted, _by_model = cls.objects.filter(expires_at__lte=timezone.now()).delete()
        return deleted
