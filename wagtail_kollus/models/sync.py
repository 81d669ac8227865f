"""Page → content record sync: the link (which is also the outbox), its log, and the mirror.

``PageContentLink`` is one row per synced page. It is both the page↔record link and the outbox:
a publish bumps ``version``; a worker claims the row, pushes the *latest* state of the page and
records ``synced_version``. Many publishes before a worker runs coalesce into one push, and no
publish is lost because a worker only stops when ``synced_version`` caught up with ``version``.
The row outlives its page (``page`` is ``SET_NULL`` and ``page_key`` keeps the id) so that a
deleted page can still pause or unlink its record.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from ..compat import page_model_name
from ..messages import shown
from .leased import LeasedWork

# Wagtail 8 lets a project swap the base Page model; Wagtail 7 has no swapping at all.
PAGE_MODEL = page_model_name()


class SyncState(models.TextChoices):
    PENDING = "pending", _("Pending")
    SYNCED = "synced", _("Synced")
    FAILED = "failed", _("Failed")
    UNLINKED = "unlinked", _("Unlinked")


# What the sync report lists (the rest are synced or deliberately unlinked).
REPORTED_STATES = (SyncState.PENDING, SyncState.FAILED)


class SyncAction(models.TextChoices):
    # What the last request asked for. The worker always re-reads the page, so "publish" means
    # "make the record match the page as it is now".
    PUBLISH = "publish", _("Publish")
    UNPUBLISH = "unpublish", _("Unpublish")
    DELETE = "delete", _("Delete")


class PageContentLinkQuerySet(models.QuerySet):
    def outstanding(self) -> PageContentLinkQuerySet:
        return self.filter(version__gt=models.F("synced_version")).exclude(state=SyncState.FAILED)


class PageContentLink(LeasedWork):
    page = models.OneToOneField(
        PAGE_MODEL,
        verbose_name=_("page"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="kollus_content_link",
    )
    page_key = models.BigIntegerField(_("page ID"), unique=True)
    page_type = models.CharField(_("page type"), max_length=150, blank=True)
    page_title = models.CharField(_("page title"), max_length=255, blank=True)
    # Unique (the constraint below): two links on one record overwrite each other's pushes.
    content_id = models.BigIntegerField(_("content ID"), null=True, blank=True)
    # Sent with the create so a POST whose answer was lost can be found and adopted.
    marker = models.CharField(_("marker"), max_length=100, blank=True)
    create_attempted_at = models.DateTimeField(null=True, blank=True)

    # --- outbox ---
    action = models.CharField(
        _("requested action"), max_length=20, choices=SyncAction.choices, default=SyncAction.PUBLISH
    )
    version = models.PositiveIntegerField(default=0)
    synced_version = models.PositiveIntegerField(default=0)
    # claim_token, claimed_until, claimed_by: the lease (LeasedWork, wagtail_kollus.leases)

    # --- what was pushed ---
    pushed_values = models.JSONField(_("last pushed values"), default=dict, blank=True)
    pushed_hashes = models.JSONField(_("last pushed hashes"), default=dict, blank=True)
    remote_updated_at = models.CharField(_("remote updated at"), max_length=64, blank=True)

    # --- state shown to editors ---
    state = models.CharField(
        _("state"), max_length=20, choices=SyncState.choices, default=SyncState.PENDING
    )
    # In English; last_error_i18n is the message itself, shown translated (wagtail_kollus.messages).
    last_error = models.TextField(_("last error"), blank=True)
    last_error_i18n = models.JSONField(default=dict, blank=True, editable=False)
    field_errors = models.JSONField(_("field errors"), default=dict, blank=True)
    # attempts, next_attempt_at: LeasedWork
    first_failure_at = models.DateTimeField(null=True, blank=True)
    last_synced_at = models.DateTimeField(_("last synced"), null=True, blank=True)
    requested_at = models.DateTimeField(_("requested"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PageContentLinkQuerySet.as_manager()

    class Meta:
        verbose_name = _("page content link")
        verbose_name_plural = _("page content links")
        permissions = [("retry_sync", _("Can retry Kollus content syncs"))]
        constraints = [
            # One record, one page (NULL, "no record yet", is never equal to another NULL).
            # The engine gives a reused id to the page that created it (sync.engine._take_record).
            models.UniqueConstraint(fields=["content_id"], name="kollus_link_unique_content_id"),
        ]
        indexes = [
            models.Index(fields=["state", "requested_at"]),
            # The sync report: pending and failed links, newest request first, by page type.
            models.Index(
                fields=["-requested_at", "-id"],
                condition=models.Q(state__in=REPORTED_STATES),
                name="kollus_link_reported_idx",
            ),
            models.Index(
                fields=["page_type", "-requested_at", "-id"],
                condition=models.Q(state__in=REPORTED_STATES),
                name="kollus_link_reported_type_idx",
            ),
            # Whether workers are doing sync work at all (``sync.status.workers_active``): one
            # indexed look-up for the panel, never a scan of the outbox.
            models.Index(fields=["last_synced_at"], name="kollus_link_synced_at_idx"),
            models.Index(fields=["claimed_until"], name="kollus_link_claimed_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.page_title or self.page_key} → {self.content_id or '∅'}"

    @property
    def is_outstanding(self) -> bool:
        return self.version > self.synced_version

    @property
    def last_error_display(self) -> str:
        """The last error in the active language (the viewer's, in the admin)."""
        return shown(self.last_error, self.last_error_i18n)


class SyncLogEntry(models.Model):
    """One line per remote write or failure: what was sent, what it overwrote, what went wrong."""

    link = models.ForeignKey(PageContentLink, on_delete=models.CASCADE, related_name="log")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    operation = models.CharField(_("operation"), max_length=20)
    content_id = models.BigIntegerField(null=True, blank=True)
    fields = models.JSONField(_("fields sent"), default=list, blank=True)
    # page_wins: the remote values our push replaced because someone edited the record remotely.
    overwritten = models.JSONField(_("overwritten remote values"), default=dict, blank=True)
    error = models.JSONField(_("error"), default=dict, blank=True)
    success = models.BooleanField(default=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("sync log entry")
        verbose_name_plural = _("sync log entries")

    def __str__(self) -> str:
        return f"{self.operation} {self.content_id}"


class ContentRecord(models.Model):
    """Local mirror of a contents API record, refreshed by ``kollus_sync --pull``."""

    content_id = models.BigIntegerField(_("content ID"), unique=True)
    title = models.CharField(_("title"), max_length=500, blank=True)
    status = models.CharField(_("status"), max_length=20, blank=True)
    content_type = models.CharField(_("content type"), max_length=30, blank=True)
    language = models.CharField(_("language"), max_length=8, blank=True)
    remote_updated_at = models.CharField(_("remote updated at"), max_length=64, blank=True)
    raw = models.JSONField(default=dict, blank=True)
    fetched_at = models.DateTimeField(_("fetched"), auto_now=True)

    class Meta:
        verbose_name = _("content record")
        verbose_name_plural = _("content records")

    def __str__(self) -> str:
        return self.title or str(self.content_id)


__all__ = [
    "ContentRecord",
    "PageContentLink",
    "SyncAction",
    "SyncLogEntry",
    "SyncState",
]
