"""What a ``KollusVideoBlock`` points at: one playable video, copied locally when chosen.

The chooser browses the contents API live; choosing upserts one of these rows (the
wagtail-bynder pattern), so page rendering and editor reloads never call a remote API, and
Wagtail's reference index, revision diffs and usage counts work as for any model.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from .media import KollusMedia


class VideoSource(models.TextChoices):
    CONTENT_ITEM = "content_item", _("Contents API chapter item")
    LIBRARY = "library", _("Kollus library")


class KollusVideo(models.Model):
    source = models.CharField(
        _("source"), max_length=20, choices=VideoSource.choices, default=VideoSource.CONTENT_ITEM
    )
    # Contents API coordinates (source = content_item).
    content_id = models.BigIntegerField(_("content ID"), null=True, blank=True, db_index=True)
    chapter_id = models.BigIntegerField(_("chapter ID"), null=True, blank=True)
    item_id = models.BigIntegerField(_("item ID"), null=True, blank=True)
    language = models.CharField(_("language"), max_length=8, blank=True)
    content_title = models.CharField(_("content title"), max_length=500, blank=True)
    chapter_title = models.CharField(_("chapter title"), max_length=500, blank=True)
    content_status = models.CharField(_("content status"), max_length=20, blank=True)
    # What playback needs.
    title = models.CharField(_("title"), max_length=500)
    media_content_key = models.CharField(_("media content key"), max_length=100, db_index=True)
    media = models.ForeignKey(
        KollusMedia,
        verbose_name=_("Kollus media"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="videos",
    )
    thumbnail_url = models.URLField(_("thumbnail URL"), max_length=1000, blank=True)
    duration_seconds = models.PositiveIntegerField(_("duration (seconds)"), null=True, blank=True)
    # False once the remote item disappeared or its content was unpublished: pages then render
    # a placeholder instead of a broken player.
    is_available = models.BooleanField(_("available"), default=True)
    last_fetched_at = models.DateTimeField(_("fetched"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("chosen Kollus video")
        verbose_name_plural = _("chosen Kollus videos")
        constraints = [
            models.UniqueConstraint(
                fields=["content_id", "item_id", "language"],
                condition=models.Q(source="content_item"),
                name="wagtail_kollus_video_unique_item",
            ),
            models.UniqueConstraint(
                fields=["media"],
                condition=models.Q(source="library"),
                name="wagtail_kollus_video_unique_library_media",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_playable(self) -> bool:
        """Available and has a key: the row alone answers, without reading its media.

        ``is_available`` already says whether the library media (if any) plays this key:
        :mod:`wagtail_kollus.availability` updates it in the same transaction as every write
        of the media's state or key. So a page loads its videos without joining the media.
        """
        return bool(self.is_available and self.media_content_key)
