"""The local mirror of Kollus library media.

Kollus allows 1 API call per second and itself recommends a callback-fed local database, so
the admin and page rendering read these rows; the API is asked only to refresh them.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from ..messages import shown


class MediaState(models.TextChoices):
    # A local row exists before Kollus is asked for an upload URL, so an interrupted request
    # leaves a visible "uploading" row instead of an orphan on Kollus.
    UPLOADING = "uploading", _("Uploading")
    TRANSCODING = "transcoding", _("Transcoding")
    READY = "ready", _("Ready")
    FAILED = "failed", _("Failed")
    DELETED = "deleted", _("Deleted")


def format_duration(seconds: int | None) -> str:
    if seconds is None:
        return ""
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class PosterSource(models.TextChoices):
    """Where the media's poster comes from: Kollus's own, or one an editor set."""

    KOLLUS = "kollus", _("Chosen by Kollus")
    FRAME = "frame", _("A frame of the video")
    UPLOAD = "upload", _("An uploaded image")


class KollusMediaQuerySet(models.QuerySet):
    def live(self) -> KollusMediaQuerySet:
        return self.exclude(state=MediaState.DELETED)

    def ready(self) -> KollusMediaQuerySet:
        return self.filter(state=MediaState.READY)


class KollusMedia(models.Model):
    upload_file_key = models.CharField(
        _("upload file key"), max_length=100, unique=True, null=True, blank=True
    )
    title = models.CharField(_("title"), max_length=255)
    category_key = models.CharField(_("category key"), max_length=100, blank=True)
    category_name = models.CharField(_("category"), max_length=255, blank=True)
    state = models.CharField(
        _("state"), max_length=20, choices=MediaState.choices, default=MediaState.UPLOADING
    )
    # In English; error_message_i18n is the message itself, shown translated
    # (wagtail_kollus.messages).
    error_message = models.TextField(_("error"), blank=True)
    error_message_i18n = models.JSONField(default=dict, blank=True, editable=False)
    duration_seconds = models.PositiveIntegerField(_("duration (seconds)"), null=True, blank=True)
    use_encryption = models.BooleanField(_("encrypted"), default=False)
    is_audio = models.BooleanField(_("audio only"), default=False)
    poster_url = models.URLField(_("poster URL"), max_length=1000, blank=True)
    snapshot_url = models.URLField(_("snapshot URL"), max_length=1000, blank=True)
    # Frames Kollus took from the video ([{"time": seconds, "url": ...}]): the poster screen
    # offers them without asking Kollus while the editor waits (media/posters.py).
    snapshot_frames = models.JSONField(_("snapshot frames"), default=list, blank=True)
    poster_source = models.CharField(
        _("poster source"),
        max_length=10,
        choices=PosterSource.choices,
        default=PosterSource.KOLLUS,
    )
    # The media content key of the configured (or first) channel: what playback uses.
    media_content_key = models.CharField(
        _("media content key"), max_length=100, blank=True, db_index=True
    )
    # Every channel the media is in: [{"channel_key", "channel_name", "media_content_key",
    # "profile_keys"}]. One upload has one media content key per channel.
    channels = models.JSONField(_("channels"), default=list, blank=True)
    original_file_name = models.CharField(_("original file name"), max_length=255, blank=True)
    original_file_size = models.BigIntegerField(_("original file size"), null=True, blank=True)
    # sha256 of the uploaded file, so `kollus_upload` can skip files already uploaded.
    checksum_sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    # Replace flow: the new upload whose source will replace this media's source.
    replacement = models.ForeignKey(
        "self",
        verbose_name=_("replacement upload"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="replaces",
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    kollus_created_at = models.DateTimeField(null=True, blank=True)
    kollus_updated_at = models.DateTimeField(null=True, blank=True)
    last_refreshed_at = models.DateTimeField(_("refreshed from Kollus"), null=True, blank=True)
    last_callback_at = models.DateTimeField(_("last callback"), null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = KollusMediaQuerySet.as_manager()

    class Meta:
        verbose_name = _("Kollus video")
        verbose_name_plural = _("Kollus videos")
        ordering = ["-created_at"]
        # The library's default order and its filters: a page of 50 000 videos is an index
        # range, not a sort of the table (and "stuck" counts read the few unfinished rows).
        indexes = [
            models.Index(fields=["-created_at"], name="kollus_media_created_idx"),
            models.Index(fields=["state", "-created_at"], name="kollus_media_state_idx"),
            models.Index(fields=["category_key", "-created_at"], name="kollus_media_category_idx"),
            # The "stuck" count on every load of the library: unfinished rows last heard from
            # before a cutoff (``media.filters.stuck_media``). Without it, every unfinished
            # row (thousands in a busy library) is read from the table to compare its date;
            # with it, only the stuck ones. Not a partial index: SQLite cannot match a
            # partial index's states to a query's bound parameters.
            models.Index(
                "state",
                Coalesce("last_callback_at", "created_at"),
                name="kollus_media_stuck_idx",
            ),
        ]
        permissions = [
            ("view_kollus_statistics", _("Can view Kollus viewing statistics")),
            # Deleting a video pages still play breaks them (they show a placeholder).
            ("delete_used_kollusmedia", _("Can delete Kollus videos that are still used")),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def duration_display(self) -> str:
        """``m:ss`` or ``h:mm:ss``; empty until Kollus knows the duration."""
        return format_duration(self.duration_seconds)

    @property
    def error_display(self) -> str:
        """Why the video failed, in the active language (the viewer's, in the admin)."""
        return shown(self.error_message, self.error_message_i18n)

    @property
    def is_ready(self) -> bool:
        return self.state == MediaState.READY

    def media_content_key_for(self, channel_key: str) -> str:
        for channel in self.channels or []:
            if channel.get("channel_key") == channel_key:
                return channel.get("media_content_key") or ""
        return ""


class KollusMediaCategory(models.Model):
    """The local mirror of the account's Kollus categories (a few dozen rows at most).

    Forms and the library's category filter read it instead of asking Kollus (1 call/s) or
    scanning every video: filled from Kollus's category list (``media.categories``) and from
    the categories that media rows mention when written.
    """

    category_key = models.CharField(_("category key"), max_length=100, unique=True)
    name = models.CharField(_("name"), max_length=255, blank=True)
    # When Kollus's category list last included it; None: known only from a video's row.
    listed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("Kollus media category")
        verbose_name_plural = _("Kollus media categories")
        ordering = ["name", "category_key"]

    def __str__(self) -> str:
        return self.name or self.category_key
