"""Learner progress: how much of one video a signed-in learner watched on one lesson page.

One row per (``learner``, ``media_content_key``, ``page``), written by Kollus's LMS (progress)
callback (:mod:`wagtail_kollus.progress`). The same video reused in two lessons has two rows,
so resume points and completion never leak from one lesson to the other.

- ``learner`` is the site's user. Anonymous viewers are **not tracked**: their ``cuid`` is a
  random per-session id (``playback.viewer``), with nobody to resume for or to report on, and
  storing it would only grow the table. Deleting a user deletes their rows (``CASCADE``).
- ``media_content_key`` is the video's identity as the rest of the app keys it
  (``KollusVideo.media_content_key``, ``ApprovedPlay``): the channel's key *without* the
  ``-{lesson}`` extension the player may add, so a report joins ``KollusVideo`` on it.
- ``watched_intervals`` is the merged list of ``[start, end)`` seconds actually watched,
  sorted and non-overlapping (``[[0, 120], [300, 360]]``): watching a part twice, or the same
  callback replayed, never counts twice. ``watched_seconds`` is its total, ``percent`` is
  ``watched_seconds`` of ``duration`` (0–100), kept as columns so reports sort and filter by
  index without reading the JSON.
- ``revision`` is bumped by every write: a callback writes only if the row is still at the
  revision it read (optimistic concurrency), so two devices reporting at once both count.
- ``completed_at`` is set once, when ``percent`` first reaches the completion threshold
  (``PROGRESS_COMPLETION_PERCENT``), and never unset.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from ..compat import page_model_name

PAGE_MODEL = page_model_name()


class LearnerProgress(models.Model):
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("learner"),
        on_delete=models.CASCADE,
        related_name="kollus_progress",
    )
    media_content_key = models.CharField(_("media content key"), max_length=100)
    page = models.ForeignKey(
        PAGE_MODEL,
        verbose_name=_("page"),
        on_delete=models.CASCADE,
        related_name="kollus_progress",
    )
    watched_intervals = models.JSONField(_("watched intervals"), default=list, blank=True)
    watched_seconds = models.PositiveIntegerField(_("watched (seconds)"), default=0)
    duration = models.PositiveIntegerField(_("duration (seconds)"), null=True, blank=True)
    percent = models.PositiveSmallIntegerField(_("percent watched"), default=0)
    last_position = models.PositiveIntegerField(_("last position (seconds)"), default=0)
    first_watched_at = models.DateTimeField(_("first watched"))
    last_watched_at = models.DateTimeField(_("last watched"))
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    revision = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = _("learner progress")
        verbose_name_plural = _("learner progress")
        constraints = [
            models.UniqueConstraint(
                fields=("learner", "media_content_key", "page"), name="wk_progress_unique"
            ),
        ]
        indexes = [
            # A page's report (learners, started, completed) is one index range.
            models.Index(fields=("page", "completed_at"), name="wk_progress_page"),
            # A learner's lessons and "continue watching", most recent first.
            models.Index(fields=("learner", "last_watched_at"), name="wk_progress_learner"),
            # A page's report groups the page's rows by learner: in this order, without a sort.
            # Neither column ever changes, so the LMS callback's updates never touch it.
            models.Index(fields=("page", "learner"), name="wk_progress_page_learner"),
        ]

    def __str__(self) -> str:
        return f"{self.learner_id} · {self.media_content_key} · page {self.page_id}: {self.percent}%"

    @property
    def is_completed(self) -> bool:
        return self.completed_at is not None

    @property
    def resume_time(self) -> str:
        """Where the learner's player resumes, as ``"4:05"`` (``"0:00"``: from the start)."""
        from ..progress.lessons import format_time, resume_position

        return format_time(resume_position(self))
