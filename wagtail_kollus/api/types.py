"""Typed, read-only records for what the two APIs return.

Every ``from_api`` accepts the raw JSON object and is tolerant: missing fields become ``None``
or empty, unknown fields are ignored (and kept in ``raw`` where the record has one). The
remote APIs are only partly documented, so a field disappearing must not crash a chooser.
Construction is kept cheap (slots, no deep copies): list pages build many of these per call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from .kollus_keys import resolve_kollus_key

# --- small, forgiving converters -------------------------------------------------------------


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return int(value)
    if value is None or value == "":
        return None
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return None


def _bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "y", "on")
    return bool(value)


def _str(value: Any) -> str:
    # No Kollus text means anything with a NUL in it, and PostgreSQL cannot store one: a title
    # holding one would make mirroring or choosing that video fail with a DataError.
    return "" if value is None else str(value).replace("\x00", "")


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _int_list(value: Any) -> list[int]:
    if isinstance(value, str):
        value = [v for v in value.split(",") if v.strip()]
    out = []
    for item in _list(value):
        if isinstance(item, dict):  # some payloads list objects instead of ids
            item = item.get("id", item.get("category_id", item.get("tag_id")))
        number = _int(item)
        if number is not None:
            out.append(number)
    return out


def parse_datetime(value: Any) -> datetime | None:
    """ISO 8601 (contents API) or unix seconds (Kollus) → aware UTC datetime, else None."""
    if value in (None, ""):
        return None
    if isinstance(value, int | float) or (isinstance(value, str) and value.isdigit()):
        try:
            return datetime.fromtimestamp(int(value), tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def parse_compact_date(value: Any) -> date | None:
    """Kollus statistics dates: ``YYYYMMDD`` (also accepts ``YYYY-MM-DD``)."""
    text = _str(value).replace("-", "")
    if len(text) != 8 or not text.isdigit():
        return None
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


def parse_duration_text(text: Any) -> int | None:
    """``"12:34"`` / ``"1:02:03"`` / ``"95"`` → seconds; anything else → None."""
    parts = _str(text).strip().split(":")
    if not parts or not all(p.strip().isdigit() for p in parts) or len(parts) > 3:
        return None
    seconds = 0
    for part in parts:
        seconds = seconds * 60 + int(part)
    return seconds


# --- shared ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Pagination:
    current_page: int
    per_page: int
    total: int
    last_page: int
    from_: int | None = None
    to: int | None = None
    has_more_pages: bool = False

    @classmethod
    def from_api(cls, data: Any, *, item_count: int = 0) -> Pagination:
        data = _dict(data)
        current = _int(data.get("current_page")) or 1
        per_page = _int(data.get("per_page")) or item_count
        total = _int(data.get("total"))
        total = item_count if total is None else total
        last = _int(data.get("last_page")) or 1
        more = data.get("has_more_pages")
        return cls(
            current_page=current,
            per_page=per_page,
            total=total,
            last_page=last,
            from_=_int(data.get("from")),
            to=_int(data.get("to")),
            has_more_pages=_bool(more) if more is not None else current < last,
        )


# --- contents API ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Category:
    category_id: int | None
    parent_category_id: int | None
    name: str
    description: str
    path: str

    @classmethod
    def from_api(cls, data: Any) -> Category:
        data = _dict(data)
        return cls(
            category_id=_int(data.get("category_id", data.get("id"))),
            parent_category_id=_int(data.get("parent_category_id")),
            name=_str(data.get("name")),
            description=_str(data.get("description")),
            path=_str(data.get("path")),
        )


@dataclass(frozen=True, slots=True)
class ChapterItem:
    item_id: int | None
    title: str
    description: str
    media_url: str
    duration_text: str
    media_source_type: str
    is_preview: bool
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, data: Any) -> ChapterItem:
        data = _dict(data)
        return cls(
            item_id=_int(data.get("item_id", data.get("id"))),
            title=_str(data.get("title")),
            description=_str(data.get("description")),
            media_url=_str(data.get("media_url")),
            duration_text=_str(data.get("duration_text")),
            media_source_type=_str(data.get("media_source_type")),
            is_preview=_bool(data.get("is_preview")),
            raw=data,
        )

    @property
    def duration_seconds(self) -> int | None:
        return parse_duration_text(self.duration_text)

    @property
    def kollus_media_content_key(self) -> str | None:
        """The Kollus mckey this item plays, or None (see ``kollus_keys.resolve_kollus_key``)."""
        return resolve_kollus_key(self)


@dataclass(frozen=True, slots=True)
class Chapter:
    chapter_id: int | None
    title: str
    items: list[ChapterItem]

    @classmethod
    def from_api(cls, data: Any) -> Chapter:
        data = _dict(data)
        return cls(
            chapter_id=_int(data.get("chapter_id", data.get("id"))),
            title=_str(data.get("title")),
            items=[ChapterItem.from_api(i) for i in _list(data.get("items"))],
        )


@dataclass(frozen=True, slots=True)
class Content:
    content_id: int | None
    title: str
    description_html: str
    content_type: str
    status: str
    language: str
    category_ids: list[int]
    categories: list[Category]
    tag_ids: list[int]
    featured_image: str | None
    images: list
    chapters: list[Chapter]
    created_at: datetime | None
    updated_at: datetime | None
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, data: Any) -> Content:
        data = _dict(data)
        image = data.get("featured_image")
        if isinstance(image, dict):  # some hosts answer {"url": ...}
            image = image.get("url")
        return cls(
            content_id=_int(data.get("content_id", data.get("id"))),
            title=_str(data.get("title")),
            description_html=_str(data.get("description_html")),
            content_type=_str(data.get("content_type")),
            status=_str(data.get("status")),
            language=_str(data.get("language")),
            category_ids=_int_list(data.get("category_ids")),
            categories=[Category.from_api(c) for c in _list(data.get("categories"))],
            tag_ids=_int_list(data.get("tag_ids")),
            featured_image=str(image) if image else None,
            images=_list(data.get("images")),
            chapters=[Chapter.from_api(c) for c in _list(data.get("chapters"))],
            created_at=parse_datetime(data.get("created_at")),
            updated_at=parse_datetime(data.get("updated_at")),
            raw=data,
        )

    def chapter_items(self) -> list[ChapterItem]:
        """Every item of every chapter, in order."""
        return [item for chapter in self.chapters for item in chapter.items]


@dataclass(frozen=True, slots=True)
class ContentPage:
    items: list[Content]
    pagination: Pagination


# --- Kollus ----------------------------------------------------------------------------------

# Kollus's ``transcoding_stage_name`` → the plugin's state vocabulary (docs/dev/contracts.md).
KOLLUS_STAGE_TO_STATE = {
    "uploaded": "transcoding",  # queued for transcoding
    "transcoding": "transcoding",
    "completed": "ready",
    "failed": "failed",
    "error": "failed",
}


@dataclass(frozen=True, slots=True)
class UploadTicket:
    upload_url: str
    progress_url: str
    upload_file_key: str
    expires_at: datetime | None

    @classmethod
    def from_api(cls, data: Any) -> UploadTicket:
        data = _dict(data)
        return cls(
            upload_url=_str(data.get("upload_url")),
            progress_url=_str(data.get("progress_url")),
            upload_file_key=_str(data.get("upload_file_key")),
            expires_at=parse_datetime(data.get("will_be_expired_at", data.get("expired_at"))),
        )


@dataclass(frozen=True, slots=True)
class MediaChannel:
    channel_key: str
    channel_name: str
    media_content_key: str
    profile_keys: list[str]

    @classmethod
    def from_api(cls, data: Any) -> MediaChannel:
        data = _dict(data)
        profiles = data.get("profile_keys", data.get("profile_key"))
        if isinstance(profiles, str):  # callbacks join several with "|"
            profiles = [p for p in profiles.split("|") if p]
        return cls(
            channel_key=_str(data.get("channel_key")),
            channel_name=_str(data.get("channel_name")),
            media_content_key=_str(data.get("media_content_key")),
            profile_keys=[str(p) for p in _list(profiles)],
        )


@dataclass(frozen=True, slots=True)
class Media:
    upload_file_key: str
    title: str
    category_key: str
    category_name: str
    duration: int | None
    state: str
    use_encryption: bool
    is_audio: bool
    original_file_name: str
    original_file_size: int | None
    poster_url: str
    snapshot_url: str
    channels: list[MediaChannel]
    created_at: datetime | None
    updated_at: datetime | None
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, data: Any) -> Media:
        data = _dict(data)
        category = _dict(data.get("category"))
        stage = _str(data.get("transcoding_stage_name")).lower()
        return cls(
            upload_file_key=_str(data.get("upload_file_key")),
            title=_str(data.get("title")),
            category_key=_str(category.get("key", data.get("category_key"))),
            category_name=_str(category.get("name", data.get("category_name"))),
            duration=_int(data.get("duration")),
            state=KOLLUS_STAGE_TO_STATE.get(stage, "transcoding" if stage else "uploading"),
            use_encryption=_bool(data.get("use_encryption")),
            is_audio=_bool(data.get("is_audio")),
            original_file_name=_str(data.get("original_file_name")),
            original_file_size=_int(data.get("original_file_size")),
            poster_url=_str(data.get("poster_url")),
            snapshot_url=_str(data.get("snapshot_url")),
            channels=[MediaChannel.from_api(c) for c in _list(data.get("media_content_keys"))],
            created_at=parse_datetime(data.get("created_at")),
            updated_at=parse_datetime(data.get("updated_at")),
            raw=data,
        )

    def media_content_key(self, channel_key: str | None = None) -> str | None:
        """The mckey in ``channel_key`` (or the first channel's), None when not in a channel."""
        for channel in self.channels:
            if channel_key is None or channel.channel_key == channel_key:
                return channel.media_content_key or None
        return None


@dataclass(frozen=True, slots=True)
class MediaPage:
    items: list[Media]
    pagination: Pagination


@dataclass(frozen=True, slots=True)
class KollusCategory:
    category_key: str
    name: str
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, data: Any) -> KollusCategory:
        data = _dict(data)
        return cls(
            category_key=_str(data.get("key", data.get("category_key"))),
            name=_str(data.get("name")),
            raw=data,
        )


@dataclass(frozen=True, slots=True)
class DailySummary:
    date: date | None
    transfer_bytes: int
    traffic_bps: int
    storage_bytes: int
    transcoding_count: int
    transcoding_bytes: int
    unique_visitors: int

    @classmethod
    def from_api(cls, data: Any) -> DailySummary:
        data = _dict(data)
        return cls(
            date=parse_compact_date(data.get("date")),
            transfer_bytes=_int(data.get("transfer")) or 0,
            traffic_bps=_int(data.get("traffic")) or 0,
            storage_bytes=_int(data.get("storage")) or 0,
            transcoding_count=_int(data.get("transcoding_count")) or 0,
            transcoding_bytes=_int(data.get("transcoding_size")) or 0,
            unique_visitors=_int(data.get("unique_visitors")) or 0,
        )


@dataclass(frozen=True, slots=True)
class ContentRank:
    upload_file_key: str
    title: str
    views: int
    play_time_seconds: int

    @classmethod
    def from_api(cls, data: Any) -> ContentRank:
        data = _dict(data)
        return cls(
            upload_file_key=_str(data.get("upload_key", data.get("upload_file_key"))),
            title=_str(data.get("title")),
            views=_int(data.get("views")) or 0,
            play_time_seconds=_int(data.get("play_time")) or 0,
        )


__all__ = [
    "Category",
    "Chapter",
    "ChapterItem",
    "Content",
    "ContentPage",
    "ContentRank",
    "DailySummary",
    "KollusCategory",
    "Media",
    "MediaChannel",
    "MediaPage",
    "Pagination",
    "UploadTicket",
]
