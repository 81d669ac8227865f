"""Where a library video is used: pages (through Wagtail's reference index) and contents-API
records (through the chosen-video rows that point at its media content key).

Blocks point at a ``KollusVideo`` row, not at ``KollusMedia``, so the usage of a media is the
union of the references to every ``KollusVideo`` that plays it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet
from wagtail.models import ReferenceIndex

from ..models import KollusMedia, KollusVideo, VideoSource


def videos_playing(media: KollusMedia) -> QuerySet[KollusVideo]:
    """Chosen-video rows that play ``media``: linked by FK or by one of its content keys."""
    keys = {c.get("media_content_key") for c in media.channels or []} | {media.media_content_key}
    keys.discard("")
    keys.discard(None)
    return KollusVideo.objects.filter(Q(media=media) | Q(media_content_key__in=keys))


def references_to(media: KollusMedia) -> QuerySet[ReferenceIndex]:
    """Reference-index rows (pages, snippets…) pointing at any video playing ``media``."""
    video_ids = [str(pk) for pk in videos_playing(media).values_list("pk", flat=True)]
    content_type = ContentType.objects.get_for_model(KollusVideo)
    return ReferenceIndex.objects.filter(to_content_type=content_type, to_object_id__in=video_ids)


@dataclass
class MediaUsage:
    references: QuerySet[ReferenceIndex]
    content_items: list[KollusVideo]

    @property
    def source_count(self) -> int:
        sources = self.references.values("base_content_type", "object_id").distinct().count()
        return sources + len(self.content_items)

    @property
    def is_used(self) -> bool:
        return bool(self.content_items) or self.references.exists()


def media_usage(media: KollusMedia) -> MediaUsage:
    content_items = list(
        videos_playing(media).filter(source=VideoSource.CONTENT_ITEM).order_by("content_title")
    )
    return MediaUsage(references=references_to(media), content_items=content_items)
