"""Daily statistics snapshots: the plugin's own history beyond Kollus's one-year window.

Kollus answers statistics only for the last 365 days and has no per-video daily endpoint. A
django-q2 schedule records, every day, the account summary of recent days and the content
ranking of each of those days (one ranking per day = that day's views per video). Old reports
read these rows; so does the per-video daily chart. Recording a day again replaces it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from django.db import models
from django.utils.translation import gettext_lazy as _

# Kollus figures can lag up to 36 hours behind the end of a (UTC) day; a snapshot taken later
# than that is final, an earlier one is provisional and will be replaced by the next run.
KOLLUS_LAG = timedelta(hours=36)


def day_is_settled_at(day: date) -> datetime:
    """The moment after which Kollus's figures for ``day`` no longer change."""
    end_of_day = datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC)
    return end_of_day + KOLLUS_LAG


class DailyStatsSnapshot(models.Model):
    """The account summary of one UTC day, and whether that day's per-video views were kept."""

    date = models.DateField(_("date"), unique=True)
    unique_visitors = models.BigIntegerField(_("unique visitors"), default=0)
    transfer_bytes = models.BigIntegerField(_("transfer (bytes)"), default=0)
    traffic_bps = models.BigIntegerField(_("traffic (bps)"), default=0)
    storage_bytes = models.BigIntegerField(_("storage (bytes)"), default=0)
    transcoding_count = models.BigIntegerField(_("transcodings"), default=0)
    transcoding_bytes = models.BigIntegerField(_("transcoded (bytes)"), default=0)
    # Set when the day's content ranking was stored in DailyVideoViews (a day with no views has
    # no rows; this tells "no views" apart from "not recorded").
    videos_recorded_at = models.DateTimeField(_("videos recorded"), null=True, blank=True)
    recorded_at = models.DateTimeField(_("recorded"))

    class Meta:
        verbose_name = _("daily Kollus statistics")
        verbose_name_plural = _("daily Kollus statistics")
        ordering = ["date"]

    def __str__(self) -> str:
        return self.date.isoformat()

    @property
    def is_final(self) -> bool:
        return self.recorded_at >= day_is_settled_at(self.date)

    @property
    def videos_are_final(self) -> bool:
        return self.videos_recorded_at is not None and self.videos_recorded_at >= day_is_settled_at(
            self.date
        )


class DailyVideoViews(models.Model):
    """Views of one video on one UTC day (from that day's Kollus content ranking)."""

    date = models.DateField(_("date"), db_index=True)
    upload_file_key = models.CharField(_("upload file key"), max_length=100, db_index=True)
    # Kept because old rankings outlive deleted media in the local mirror.
    title = models.CharField(_("title"), max_length=255, blank=True)
    views = models.BigIntegerField(_("views"), default=0)
    play_time_seconds = models.BigIntegerField(_("play time (seconds)"), default=0)

    class Meta:
        verbose_name = _("daily Kollus video views")
        verbose_name_plural = _("daily Kollus video views")
        ordering = ["date", "-views"]
        constraints = [
            models.UniqueConstraint(
                fields=["date", "upload_file_key"], name="wagtail_kollus_daily_video_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.upload_file_key}: {self.views}"


class RollupKind(models.TextChoices):
    SETTLED = "settled"  # recorded days, summed
    REMOTE = "remote"  # Kollus's answer for unsettled days, copied in (a part only)
    COMBINED = "combined"  # parts added up


class StatsRollup(models.Model):
    """A ranking (views per video) of a set of days, stored once so that reading it is cheap.

    Identified by a fingerprint of everything that went into it (the days and when each was
    recorded, or the time of Kollus's answer): a rollup never changes; different inputs make
    a different rollup. ``stats.rollups`` builds them; the report, the dashboard panel and the
    per-video view read a page of rows through the indexes below, whatever the video count.
    """

    fingerprint = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=10, choices=RollupKind.choices)
    start = models.DateField()
    end = models.DateField()
    row_count = models.PositiveIntegerField(default=0)
    total_views = models.BigIntegerField(default=0)
    built_at = models.DateTimeField()
    # The last UTC day it was read: rollups nobody read since yesterday are pruned.
    used_on = models.DateField()

    class Meta:
        verbose_name = _("statistics rollup")
        verbose_name_plural = _("statistics rollups")
        indexes = [models.Index(fields=["kind", "start", "end"], name="kollus_rollup_period_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.start} – {self.end}"


class StatsRollupRow(models.Model):
    """One video's totals in a rollup, with its position in each of the report's orders.

    The positions are dense (1 … row count), so a page of any order is a range of one index
    (``rank`` 51–100 is the second page by views), read the same whatever the planner thinks
    of a rollup it has no statistics for yet, and however deep the page.
    """

    # No index of its own: every index below starts with it.
    rollup = models.ForeignKey(
        StatsRollup, on_delete=models.CASCADE, related_name="rows", db_index=False
    )
    upload_file_key = models.CharField(max_length=100)
    title = models.CharField(max_length=255, blank=True)
    views = models.BigIntegerField(default=0)
    play_time_seconds = models.BigIntegerField(default=0)
    # 1 = most viewed (ties: more play time, then title, then key): the report's default
    # order, and its "#" column whatever the sort.
    rank = models.PositiveIntegerField(default=0)
    play_rank = models.PositiveIntegerField(default=0)  # 1 = most play time (then as rank)
    # 1 = first by display title (the library's, else Kollus's, else the key), as stored.
    title_rank = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("statistics rollup row")
        verbose_name_plural = _("statistics rollup rows")
        constraints = [
            models.UniqueConstraint(
                fields=["rollup", "upload_file_key"], name="kollus_rollup_row_unique"
            )
        ]
        indexes = [
            models.Index(fields=["rollup", "rank"], name="kollus_rollup_rank_idx"),
            models.Index(fields=["rollup", "play_rank"], name="kollus_rollup_play_idx"),
            models.Index(fields=["rollup", "title_rank"], name="kollus_rollup_title_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.upload_file_key}: {self.views}"
