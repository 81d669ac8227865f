"""Runs of the library import (``media.importing``): where a run got to, so it can resume.

Kollus allows one call a second, so importing a library of thousands of videos takes minutes;
a deploy, a killed worker or an outage in the middle must not mean starting again. A run
records the next list page to read after each page it wrote (the cursor), its counts and the
last error. Running it again goes on from that page. The run is leased work
(``wagtail_kollus.leases``): one worker at a time, and a worker that died leaves a lease that
expires, after which the run can be resumed.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from ..messages import shown
from .leased import LeasedWork


class ImportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Importing")
    FAILED = "failed", _("Stopped")
    FINISHED = "finished", _("Finished")


class KollusImportRun(LeasedWork):
    status = models.CharField(
        _("status"), max_length=20, choices=ImportStatus.choices, default=ImportStatus.QUEUED
    )
    # The cursor: the next page of Kollus's media list to read (pages before it are written).
    next_page = models.PositiveIntegerField(_("next page"), default=1)
    per_page = models.PositiveSmallIntegerField(_("media per page"), default=100)
    # Kollus's count of the listing, as its latest page said (None until a page was read).
    total = models.PositiveIntegerField(_("media in Kollus"), null=True, blank=True)
    seen = models.PositiveIntegerField(_("media read"), default=0)
    created_count = models.PositiveIntegerField(_("new videos"), default=0)
    updated_count = models.PositiveIntegerField(_("videos already in the library"), default=0)
    api_calls = models.PositiveIntegerField(_("Kollus API calls"), default=0)
    # In English; error_message_i18n is the message, shown translated (wagtail_kollus.messages).
    error_message = models.TextField(_("error"), blank=True)
    error_message_i18n = models.JSONField(default=dict, blank=True, editable=False)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("started"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("Kollus library import")
        verbose_name_plural = _("Kollus library imports")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"import #{self.pk} ({self.status}, page {self.next_page})"

    @property
    def is_finished(self) -> bool:
        return self.status == ImportStatus.FINISHED

    @property
    def error_display(self) -> str:
        return shown(self.error_message, self.error_message_i18n)

    @property
    def percent(self) -> int:
        """How far the run got, 0–100 (0 until Kollus said how many media it holds)."""
        if self.is_finished:
            return 100
        if not self.total:
            return 0
        return min(100, int(100 * self.seen / self.total))
