"""Ranking rows joined with the local mirror: poster and title from ``KollusMedia``, and the
pages that show the video (``KollusVideo`` rows → Wagtail's reference index).

Only the rows of the shown page are joined (a constant number of queries per page), so a long
ranking costs no more than a short one; an export joins its rows a chunk at a time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.urls import reverse
from wagtail.models import ReferenceIndex

from ..compat import get_page_model
from ..models import KollusMedia, KollusVideo
from ..models.stats import StatsRollupRow

# Rows joined per query while exporting: keeps every query's parameters far below the limits
# of databases (SQLite's old one is 999), and memory flat, whatever the ranking's length.
EXPORT_CHUNK = 200


@dataclass(slots=True)
class RankingRow:
    rank: int
    upload_file_key: str
    title: str
    views: int
    play_time_seconds: int
    media: KollusMedia | None = None
    pages: list = field(default_factory=list)

    @property
    def display_title(self) -> str:
        if self.media is not None and self.media.title:
            return self.media.title
        return self.title or self.upload_file_key

    @property
    def poster_url(self) -> str:
        return self.media.poster_url if self.media is not None else ""

    @property
    def stats_url(self) -> str:
        return reverse("wagtail_kollus_stats:video", args=[self.upload_file_key])

    @property
    def page_titles(self) -> str:
        """For spreadsheets: the pages, one per line."""
        return "\n".join(page.get_admin_display_title() for page in self.pages)

    @property
    def play_time_hours(self) -> float:
        return round(self.play_time_seconds / 3600, 2)


def ranking_rows(ranks: Iterable[StatsRollupRow]) -> list[RankingRow]:
    return [
        RankingRow(r.rank, r.upload_file_key, r.title, r.views, r.play_time_seconds)
        for r in ranks
    ]


def joined_chunks(
    ranks: Iterable[StatsRollupRow], size: int = EXPORT_CHUNK
) -> Iterator[RankingRow]:
    """``ranks`` as joined rows, ``size`` at a time: for exports, which stream every row."""
    chunk: list[StatsRollupRow] = []
    for rank in ranks:
        chunk.append(rank)
        if len(chunk) == size:
            yield from _joined(chunk)
            chunk = []
    yield from _joined(chunk)


def _joined(ranks: list[StatsRollupRow]) -> list[RankingRow]:
    rows = ranking_rows(ranks)
    join_local(rows)
    return rows


def join_local(rows: Sequence[RankingRow]) -> None:
    """Fill ``media`` and ``pages`` of ``rows`` in place (a few queries, whatever the count)."""
    keys = [row.upload_file_key for row in rows if row.upload_file_key]
    if not keys:
        return
    media_by_key = {
        m.upload_file_key: m for m in KollusMedia.objects.filter(upload_file_key__in=keys)
    }
    # A block points at a KollusVideo; that row plays the media through its FK, or (chosen from
    # the contents API) through one of the media's content keys.
    media_by_content_key = {}
    for media in media_by_key.values():
        for channel in media.channels or []:
            if channel.get("media_content_key"):
                media_by_content_key[channel["media_content_key"]] = media.pk
        if media.media_content_key:
            media_by_content_key[media.media_content_key] = media.pk
    video_media = {}
    for pk, media_id, content_key in KollusVideo.objects.filter(
        Q(media__in=media_by_key.values()) | Q(media_content_key__in=media_by_content_key)
    ).values_list("pk", "media_id", "media_content_key"):
        video_media[pk] = media_id or media_by_content_key.get(content_key)
    pages_by_media = defaultdict(list)
    if video_media:
        references = ReferenceIndex.objects.filter(
            to_content_type=ContentType.objects.get_for_model(KollusVideo),
            to_object_id__in=[str(pk) for pk in video_media],
            base_content_type=ContentType.objects.get_for_model(get_page_model()),
        ).values_list("to_object_id", "object_id")
        page_ids_by_media = defaultdict(set)
        for video_id, page_id in references:
            media_id = video_media.get(int(video_id))
            if media_id is not None:
                page_ids_by_media[media_id].add(int(page_id))
        all_ids = set().union(*page_ids_by_media.values()) if page_ids_by_media else set()
        pages = get_page_model().objects.filter(pk__in=all_ids)
        page_by_id = {page.pk: page for page in pages}
        for media_id, page_ids in page_ids_by_media.items():
            pages_by_media[media_id] = sorted(
                (page_by_id[pk] for pk in page_ids if pk in page_by_id), key=lambda p: p.title
            )
    for row in rows:
        row.media = media_by_key.get(row.upload_file_key)
        if row.media is not None:
            row.pages = pages_by_media.get(row.media.pk, [])
