"""Choosing copies: the chapter item the editor picked becomes (or refreshes) a ``KollusVideo``.

Blocks and foreign keys then point at a local row, so rendering and editor reloads never call
the API, and Wagtail's reference index, revision diffs and usage counts work (the bynder pattern).
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from ..api.types import Chapter, ChapterItem, Content
from ..availability import ItemState, item_video_available, media_for_key, media_plays, status_plays
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
    """Create or refresh the local row for one chosen chapter item and return it.

    Choosing reads the record fresh, so the row starts out with what ``wagtail_kollus.availability``
    says of it: an item of a record that is not published is chosen, but does not play yet.
    """
    # Locked: a callback mirroring this media at the same moment waits for this row, or this
    # waits for its commit, so is_available is never computed from a state it is replacing.
    media = media_for_key(media_content_key, lock=True)
    state = ItemState(status_plays(content.status), media_content_key, chapter.chapter_id)
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
        "is_available": item_video_available(state, media),
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


def _library_copy(media: KollusMedia) -> dict:
    """What a library video shows of its media (not whether it plays: availability decides)."""
    return {
        "title": media.title[:500],
        "thumbnail_url": http_url_or_blank(media.poster_url),
        "duration_seconds": media.duration_seconds,
        "last_fetched_at": timezone.now(),
    }


@transaction.atomic
def copy_media_to_video(media: KollusMedia) -> KollusVideo:
    """Create or refresh the one library ``KollusVideo`` of ``media`` (the chooser's upload tab).

    The media may still be transcoding, so its key may be empty: the row then renders the
    placeholder (``is_playable``) until the media is mirrored ready, which makes it available
    with the key (``availability.apply_media``) in the same commit.
    """
    # Re-read and locked: a callback mirroring the media now waits for this commit (and then
    # updates the new row), or this waits for the callback's and copies what it wrote.
    media = KollusMedia.objects.select_for_update().get(pk=media.pk)
    video, _created = KollusVideo.objects.update_or_create(
        source=VideoSource.LIBRARY,
        media=media,
        defaults={
            **_library_copy(media),
            "media_content_key": media.media_content_key,
            "is_available": media_plays(media),
        },
    )
    return video


def refresh_library_videos(media: KollusMedia) -> int:
    """Copy the media's title, poster and duration into its library video (if chosen), and its
    poster into chosen chapter items that have no picture of their own.

    Runs after the commit that changed the media (``video_ready``/``video_updated``); whether
    the videos play, and with which key, was already written in that commit.
    """
    copied = KollusVideo.objects.filter(source=VideoSource.LIBRARY, media=media).update(
        **_library_copy(media)
    )
    poster = http_url_or_blank(media.poster_url)
    if poster:
        # Pages show the row's thumbnail and never read the media (blocks.KollusVideoValue).
        copied += (
            KollusVideo.objects.filter(media=media, thumbnail_url="")
            .exclude(source=VideoSource.LIBRARY)
            .update(thumbnail_url=poster)
        )
    return copied
