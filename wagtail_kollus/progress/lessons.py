"""Progress as pages and players ask for it: a page's videos, resume points, a page's figures.

A page's videos are the ``KollusVideo`` rows Wagtail's reference index says the page points
at (every ``KollusVideoBlock`` of its live content), so "the page is complete" follows what
the page shows now, without loading and walking its StreamFields.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import BigIntegerField
from django.db.models.functions import Cast
from wagtail.models import ReferenceIndex

from ..compat import get_page_model
from ..conf import kollus_settings
from ..models import KollusMedia, KollusVideo, LearnerProgress

# Where a request keeps its learner's rows per page: a page of ten players reads them once.
_MEMO_ATTRIBUTE = "_wagtail_kollus_progress"


def page_video_keys(page_id: int) -> list[str]:
    """The media content keys of the videos page ``page_id`` shows (one query)."""
    page_type = ContentType.objects.get_for_model(get_page_model())
    # The index keeps ids as text; PostgreSQL compares a bigint with text only when told how.
    video_ids = (
        ReferenceIndex.objects.filter(
            base_content_type=page_type,
            object_id=str(page_id),
            to_content_type=ContentType.objects.get_for_model(KollusVideo),
        )
        .annotate(video_id=Cast("to_object_id", output_field=BigIntegerField()))
        .values("video_id")
    )
    keys = KollusVideo.objects.filter(pk__in=video_ids).values_list("media_content_key", flat=True)
    return sorted({key.strip() for key in keys if key and key.strip()})


def pages_video_keys(page_ids: Iterable[int]) -> dict[int, list[str]]:
    """``page_video_keys`` of many pages in two queries, whatever their number (a listing of
    pages asks once, not once per row); a page that shows no video is left out."""
    page_type = ContentType.objects.get_for_model(get_page_model())
    references = list(
        ReferenceIndex.objects.filter(
            base_content_type=page_type,
            object_id__in=[str(page_id) for page_id in page_ids],
            to_content_type=ContentType.objects.get_for_model(KollusVideo),
        ).values_list("object_id", "to_object_id")
    )
    video_keys = dict(
        KollusVideo.objects.filter(pk__in={video_id for _page, video_id in references})
        .values_list("pk", "media_content_key")
    )
    keys: dict[int, set[str]] = {}
    for page_id, video_id in references:
        key = (video_keys.get(int(video_id)) or "").strip()
        if key:
            keys.setdefault(int(page_id), set()).add(key)
    return {page_id: sorted(found) for page_id, found in keys.items()}


def video_titles(keys: Iterable[str]) -> dict[str, str]:
    """The titles of the videos playing ``keys``, in two queries at most: a chosen video's
    (``KollusVideo``), else the uploaded media's (``KollusMedia``); a key of neither keeps no
    title."""
    wanted = set(keys)
    titles: dict[str, str] = {}
    rows = KollusVideo.objects.filter(media_content_key__in=wanted).exclude(title="")
    for key, title in rows.order_by("pk").values_list("media_content_key", "title"):
        titles.setdefault(key, title)
    if missing := wanted - titles.keys():
        media = KollusMedia.objects.filter(media_content_key__in=missing).exclude(title="")
        for key, title in media.order_by("pk").values_list("media_content_key", "title"):
            titles.setdefault(key, title)
    return titles


def rows_on_page(request: Any, learner_id: int, page_id: int) -> dict[str, LearnerProgress]:
    """The learner's rows on a page by video key, read once per request."""
    memo = getattr(request, _MEMO_ATTRIBUTE, None)
    if memo is None:
        memo = {}
        if request is not None:
            with contextlib.suppress(AttributeError):
                setattr(request, _MEMO_ATTRIBUTE, memo)
    key = (learner_id, page_id)
    if key not in memo:
        memo[key] = {
            row.media_content_key: row
            for row in LearnerProgress.objects.filter(learner_id=learner_id, page_id=page_id)
        }
    return memo[key]


def resume_position(row: LearnerProgress | None) -> int:
    """Where a player resumes: the last position, or 0 near the end (or with no row)."""
    if row is None or not row.last_position:
        return 0
    margin = int(kollus_settings.PROGRESS_RESUME_END_MARGIN or 0)
    if row.duration and row.last_position >= row.duration - margin:
        return 0
    return int(row.last_position)


def format_time(seconds: int) -> str:
    """``1:05`` or ``1:02:03``: a resume point as a learner reads it."""
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@dataclass(frozen=True)
class PageProgress:
    """A learner's progress on one page: what ``{% kollus_progress page %}`` gives."""

    percent: int  # the mean of the page's videos (a video not started counts 0)
    videos: int
    completed_videos: int
    resume_seconds: int  # of the video watched last; 0 when there is none
    started: bool

    @property
    def completed(self) -> bool:
        return self.videos > 0 and self.completed_videos == self.videos

    @property
    def resume_time(self) -> str:
        return format_time(self.resume_seconds)

    def __str__(self) -> str:
        return f"{self.percent}%"


NO_PROGRESS = PageProgress(percent=0, videos=0, completed_videos=0, resume_seconds=0, started=False)


def page_progress(learner_id: int, page_id: int, *, request: Any = None) -> PageProgress:
    """The learner's progress on the page (two queries; the rows are shared with players)."""
    rows = rows_on_page(request, learner_id, page_id)
    keys = page_video_keys(page_id) or sorted(rows)
    if not keys:
        return NO_PROGRESS
    shown = [rows[key] for key in keys if key in rows]
    latest = max(shown, key=lambda row: row.last_watched_at, default=None)
    return PageProgress(
        percent=sum(row.percent for row in shown) // len(keys),
        videos=len(keys),
        completed_videos=sum(1 for row in shown if row.completed_at is not None),
        resume_seconds=resume_position(latest),
        started=bool(shown),
    )


def continue_watching(learner_id: int, *, limit: int = 5) -> list[LearnerProgress]:
    """The learner's videos started and not completed, most recent first, with their page
    and ``video_title`` (the titles read in one go for the list, "" when unknown)."""
    rows = list(
        LearnerProgress.objects.filter(learner_id=learner_id, completed_at__isnull=True)
        .select_related("page")
        .order_by("-last_watched_at")[: max(0, int(limit))]
    )
    titles = video_titles({row.media_content_key for row in rows}) if rows else {}
    for row in rows:
        row.video_title = titles.get(row.media_content_key, "")
    return rows


def page_is_completed(learner_id: int, page_id: int, keys: list[str] | None = None) -> bool:
    """Whether the learner completed every video the page shows."""
    keys = page_video_keys(page_id) if keys is None else keys
    if not keys:
        return False
    done = LearnerProgress.objects.filter(
        learner_id=learner_id,
        page_id=page_id,
        media_content_key__in=keys,
        completed_at__isnull=False,
    ).count()
    return done == len(keys)


def lesson_media_content_key(media_content_key: str, page_id: int) -> str:
    """Kollus's media content key extension for one lesson: ``{mckey}-{page id}``."""
    return f"{media_content_key}-{page_id}"
