"""Filters of the video library listing: state, category and "stuck"."""

from __future__ import annotations

from datetime import datetime, timedelta

import django_filters
from django.core.cache import caches
from django.db.models import Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.admin.filters import WagtailFilterSet

from ..conf import kollus_settings
from ..models import KollusMedia, MediaState
from .categories import known_categories


def _stuck_cutoff() -> datetime:
    return timezone.now() - timedelta(minutes=int(kollus_settings.STUCK_AFTER_MINUTES))


def stuck_media(queryset: QuerySet[KollusMedia] | None = None) -> QuerySet[KollusMedia]:
    """Uploads/transcodes with no callback for ``STUCK_AFTER_MINUTES``.

    Kollus sends a callback at the end of upload and of transcoding; silence for longer than
    a transcode takes usually means a lost callback (or a browser closed mid-upload). The
    ``kollus_media_stuck_idx`` index has this expression: keep them alike.
    """
    if queryset is None:
        queryset = KollusMedia.objects.all()
    cutoff = _stuck_cutoff()
    return (
        queryset.filter(state__in=(MediaState.UPLOADING, MediaState.TRANSCODING))
        .annotate(_last_heard=Coalesce("last_callback_at", "created_at"))
        .filter(_last_heard__lt=cutoff)
    )


def is_abandoned_upload(media: KollusMedia) -> bool:
    """A stuck upload Kollus never confirmed: when Kollus does not know its upload file key
    either, the file never arrived (the browser was closed or lost its connection)."""
    return (
        media.state == MediaState.UPLOADING
        and media.last_callback_at is None
        and media.created_at < _stuck_cutoff()
    )


def _category_choices() -> list[tuple[str, str]]:
    # The category mirror (a few rows), not a SELECT DISTINCT over every video on each load.
    return known_categories()


class YesNoWidget(django_filters.widgets.BooleanWidget):
    """django-filter's yes/no select, with its labels translated when it is shown.

    ``BooleanWidget`` translates its choices when it is built, which for a filter declared on
    a class is once, at import, in the server's language: every editor then read them in
    ``LANGUAGE_CODE`` whatever their own admin language.
    """

    def __init__(self, attrs: dict | None = None) -> None:
        super().__init__(attrs)
        self.choices = [("", _("Unknown")), ("true", _("Yes")), ("false", _("No"))]


class KollusMediaFilterSet(WagtailFilterSet):
    state = django_filters.ChoiceFilter(label=_("State"), choices=MediaState.choices)
    category_key = django_filters.ChoiceFilter(label=_("Category"), choices=_category_choices)
    stuck = django_filters.BooleanFilter(
        label=_("Stuck (no callback for a while)"),
        method="filter_stuck",
        widget=YesNoWidget(),
    )

    class Meta:
        model = KollusMedia
        fields = ["state", "category_key"]

    def filter_stuck(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return queryset
        stuck = stuck_media(queryset)
        if value:
            return stuck
        return queryset.exclude(pk__in=stuck.values("pk"))


def exclude_deleted(queryset: QuerySet[KollusMedia]) -> QuerySet[KollusMedia]:
    """Deleted rows stay in the database (pages may still point at them) but not in the list."""
    return queryset.filter(~Q(state=MediaState.DELETED))


_LIVE_COUNT_KEY = "wagtail_kollus:media:live-count"
# Bounds how long a count can lag where the cache is not shared by every process (it should
# be: see docs/deployment.md); saves forget it at once.
LIVE_COUNT_TIMEOUT = 300


def live_media_count() -> int:
    """How many videos the unfiltered library lists: cached, so that showing a page of 50 000
    videos does not count them all on every load. Saving or deleting a video forgets it
    (``media.receivers``)."""
    cache = caches[kollus_settings.CACHE_ALIAS]
    count = cache.get(_LIVE_COUNT_KEY)
    if count is None:
        count = exclude_deleted(KollusMedia.objects.all()).count()
        cache.set(_LIVE_COUNT_KEY, count, LIVE_COUNT_TIMEOUT)
    return count


def forget_live_media_count() -> None:
    caches[kollus_settings.CACHE_ALIAS].delete(_LIVE_COUNT_KEY)
