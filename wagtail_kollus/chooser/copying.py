"""Choosing copies: the chapter item the editor picked becomes (or refreshes) a ``KollusVideo``.

Blocks and foreign keys then point at a local row, so rendering and editor reloads never call
the API, and Wagtail's reference index, revision diffs and usage counts work (the bynder pattern).
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from ..api.types import Chapter, ChapterItem, Content
from ..models import KollusMedia, KollusVideo, VideoSource

URL_FIELD_MAX_LENGTH = 1000


def http_url_or_blank(url: str | None) -> str:
    """Only absolute http(s) URLs that fit the column; anything else is dropped, not stored."""
    if url and url.startswith(("https://", "http://")) and len(url) <= URL_FIELD_MAX_LENGTH:
        return url
    return ""


@transaction.atomic
def copy_item_to_video(
    content: Content, chapter: Chapter, item: ChapterItem, *, language: str, media_content_key: str
) -> KollusVideo:
    """Create or refresh the local row for one chosen chapter item and return it."""
    media = KollusMedia.objects.filter(media_content_key=media_content_key).first()
    fields = {
        "chapter_id": chapter.chapter_id,
        "content_title": content.title[:500],
        "chapter_title": chapter.title[:500],
        "content_status": content.status[:20],
        "title": (item.title or content.title)[:500],
        "media_content_key": media_content_key,
        "media": media,
        "thumbnail_url": http_url_or_blank(content.featured_image)
        or (media.poster_url if media else ""),
        "duration_seconds": item.duration_seconds,
        "is_available": True,
        "last_fetched_at": timezone.now(),
    }
    video, _created = KollusVideo.objects.update_or_create(
        source=VideoSource.CONTENT_ITEM,
        content_id=content.content_id,
        item_id=item.item_id,
        language=language,
        defaults=fields,
    )
    return video
