"""How a page becomes a content record payload: the default ``ContentMapping``.

One method per payload field (``get_title``, ``get_chapters``, …), listed in ``fields``. To
change a field, override its method; to add one (prices, options, memberships), add its name to
``fields`` and write ``get_<name>``. The engine diffs the payload field by field, so a field
whose value did not change is never sent again.
"""

from __future__ import annotations

import enum
import hashlib
import json
import logging
import re
from collections.abc import Iterable, Iterator
from typing import Any

from django.db import models
from django.utils.html import format_html, strip_tags
from wagtail.rich_text import expand_db_html

from ..conf import kollus_settings
from ..languages import page_language

logger = logging.getLogger(__name__)


class ChapterGrouping(enum.Enum):
    #: Every video of the page in one chapter, titled after the page.
    SINGLE = "single"
    #: A heading block starts a new chapter titled with its text; videos before the first
    #: heading go to a chapter titled after the page.
    BY_HEADING = "by_heading"


def value_hash(value: Any) -> str:
    """A stable hash of a JSON-able value: what the engine compares to skip unchanged fields."""
    encoded = json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def project(remote: Any, shape: Any) -> Any:
    """Keep only the parts of ``remote`` that ``shape`` (what we pushed) has.

    The API answers with more than it was sent (ids, timestamps, derived fields). Projecting
    the remote value onto the pushed one lets the conflict check compare like with like.
    """
    if isinstance(shape, dict) and isinstance(remote, dict):
        return {key: project(remote.get(key), sub) for key, sub in shape.items()}
    if isinstance(shape, list) and isinstance(remote, list):
        if shape and all(isinstance(item, dict) for item in shape):
            return [project(r, s) for r, s in zip(remote, shape, strict=False)] + (
                remote[len(shape) :]
            )
        return remote
    return remote


class ContentMapping:
    """The default page → content record mapping. Subclass and register with ``register_sync``."""

    #: Payload fields, in order. Each is produced by ``get_<name>(page)``; ``None`` omits it.
    fields: tuple[str, ...] = (
        "title",
        "description_html",
        "featured_image",
        "category_ids",
        "tag_ids",
        "status",
        "content_type",
        "language",
        "chapters",
    )
    #: What the contents API requires to create a record (``content_type`` is always sent).
    #: The editor's panel and the system check name the ones this mapping would leave empty.
    required_fields: tuple[str, ...] = (
        "title",
        "description_html",
        "category_ids",
        "featured_image",
    )
    #: Sent on create only: the API refuses to change a content's type afterwards, and a
    #: record keeps the language it was created in (docs/sync.md, "Languages").
    create_only_fields: tuple[str, ...] = ("content_type", "language")
    #: Content type of new records (vod, live, offline, digital_content); None → setting.
    content_type: str | None = None
    #: Name of the rich-text (or StreamField) field for ``description_html``; None → the first
    #: RichTextField of the page, if any.
    description_field: str | None = None
    #: Name of the ForeignKey to a Wagtail image used as ``featured_image``.
    image_field: str | None = None
    #: Rendition filter for the featured image (its absolute URL is sent).
    image_rendition: str = "original"
    #: Names of page fields/attributes holding category and tag ids (list, queryset or int);
    #: None → the ``SYNC_DEFAULT_CATEGORY_IDS`` / ``SYNC_DEFAULT_TAG_IDS`` settings.
    category_ids_field: str | None = None
    tag_ids_field: str | None = None
    #: StreamFields searched for Kollus video blocks; None → every StreamField of the page.
    video_stream_fields: tuple[str, ...] | None = None
    chapter_grouping: ChapterGrouping = ChapterGrouping.SINGLE
    #: Block names that start a chapter under ``ChapterGrouping.BY_HEADING``.
    heading_block_names: tuple[str, ...] = ("heading",)
    #: The payload key carrying the idempotency marker of a create. The API keeps fields it
    #: does not know and returns them (an assumption; see docs/sync.md), so a POST whose answer
    #: was lost can be found again by searching for this marker.
    marker_field: str = "external_id"

    def __init__(self, model: type) -> None:
        self.model = model

    # --- the payload ----------------------------------------------------------------------
    def build_payload(self, page: Any) -> dict[str, Any]:
        """Every field for ``page`` as it is now (the engine decides what to send)."""
        payload: dict[str, Any] = {}
        for name in self.fields:
            value = getattr(self, f"get_{name}")(page)
            if value is not None:
                payload[name] = value
        return payload

    def get_title(self, page: Any) -> str:
        return page.title

    def get_description_html(self, page: Any) -> str:
        """The description field's HTML; else the page's search description as a paragraph;
        else ``SYNC_DEFAULT_DESCRIPTION_HTML``. Never empty: the API requires the field."""
        html = self.description_from_field(page)
        if html and _has_content(html):
            return html
        summary = (getattr(page, "search_description", "") or "").strip()
        if summary:
            return str(format_html("<p>{}</p>", summary))
        return str(kollus_settings.SYNC_DEFAULT_DESCRIPTION_HTML or "")

    def description_from_field(self, page: Any) -> str | None:
        """``description_field`` (else the first RichTextField) as HTML; None: no such field."""
        name = self.description_source_field()
        if not name:
            return None
        value = getattr(page, name)
        if hasattr(value, "render_as_block"):  # a StreamField
            return str(value.render_as_block())
        # Expanded so internal links and embeds become real URLs outside Wagtail.
        return expand_db_html(value or "")

    def description_source_field(self) -> str | None:
        return self.description_field or self._first_field_of_type("RichTextField")

    def get_featured_image(self, page: Any) -> str | None:
        image = getattr(page, self.image_field, None) if self.image_field else None
        if image is None:
            return kollus_settings.SYNC_DEFAULT_FEATURED_IMAGE or None
        return image.get_rendition(self.image_rendition).full_url

    def get_category_ids(self, page: Any) -> list[int]:
        return self._ids(page, self.category_ids_field, kollus_settings.SYNC_DEFAULT_CATEGORY_IDS)

    def get_tag_ids(self, page: Any) -> list[int] | None:
        ids = self._ids(page, self.tag_ids_field, kollus_settings.SYNC_DEFAULT_TAG_IDS)
        # The API allows at most one tag per content for now; None leaves tags alone.
        return ids[:1] if ids or self.tag_ids_field else None

    def get_status(self, page: Any) -> str:
        return "publish" if page.live else kollus_settings.SYNC_UNPUBLISHED_STATUS

    def get_content_type(self, page: Any) -> str:
        return self.content_type or kollus_settings.SYNC_CONTENT_TYPE

    def get_language(self, page: Any) -> str:
        """The API language of the page's locale (``LOCALE_LANGUAGES``, else
        ``DEFAULT_LANGUAGE``): each translation of a page is its own record."""
        return page_language(page)

    def get_chapters(self, page: Any) -> list[dict[str, Any]] | None:
        if self.get_content_type(page) != "vod":
            return None  # chapters are VOD-only; other types would answer 422
        chapters: list[dict[str, Any]] = []
        current: dict[str, Any] = {"title": page.title, "items": []}
        for block_type, value in self._stream_blocks(page):
            if (
                self.chapter_grouping is ChapterGrouping.BY_HEADING
                and block_type in self.heading_block_names
            ):
                if current["items"]:
                    chapters.append(current)
                current = {"title": _plain_text(value) or page.title, "items": []}
            elif _is_video_value(value):
                item = self.chapter_item(value)
                if item:
                    current["items"].append(item)
        if current["items"]:
            chapters.append(current)
        return chapters

    def chapter_item(self, value: Any) -> dict[str, Any] | None:
        """One chapter item for a KollusVideoBlock value; None skips videos without a key."""
        key = getattr(value, "media_content_key", None)
        if not key:
            return None
        item: dict[str, Any] = {
            "title": getattr(value, "title", "") or key,
            # The plugin's convention for "plays through Kollus" (see docs/dev/contracts.md).
            "media_source_type": "kollus",
            "media_url": key,
        }
        seconds = getattr(value, "duration_seconds", None)
        if seconds:
            item["duration_text"] = f"{int(seconds) // 60}:{int(seconds) % 60:02d}"
        return item

    # --- what a new record would lack ---------------------------------------------------
    def missing_required_fields(self, page: Any) -> list[str]:
        """The ``required_fields`` that ``page``, as it is now, would leave empty: publishing it
        would create no record. Told to the editor before they publish."""
        missing = []
        for name in self.required_fields:
            try:
                value = getattr(self, f"get_{name}")(page)
            except Exception:  # noqa: BLE001 - a draft (or an unsaved page) the getter cannot read
                logger.debug("Cannot tell whether %s is filled", name, exc_info=True)
                continue
            if _is_blank(value):
                missing.append(name)
        return missing

    def unfillable_required_fields(self) -> list[str]:
        """The ``required_fields`` this mapping can fill for no page: neither a page field nor
        a default setting feeds them (the system check reports them). Fields whose ``get_``
        method a subclass overrides are trusted to be filled. (``title`` is the page's, and
        ``description_html`` falls back on the search description every page has.)"""
        sources = {
            "category_ids": (self.category_ids_field, kollus_settings.SYNC_DEFAULT_CATEGORY_IDS),
            "featured_image": (self.image_field, kollus_settings.SYNC_DEFAULT_FEATURED_IMAGE),
        }
        unfillable = []
        for name, (field, default) in sources.items():
            overridden = getattr(type(self), f"get_{name}") is not getattr(
                ContentMapping, f"get_{name}"
            )
            if name in self.required_fields and not overridden and not field and not default:
                unfillable.append(name)
        return unfillable

    def source_field(self, name: str) -> str | None:
        """The page field a payload field is read from, if the mapping names one."""
        return {
            "description_html": self.description_source_field(),
            "featured_image": self.image_field,
            "category_ids": self.category_ids_field,
            "tag_ids": self.tag_ids_field,
        }.get(name)

    # --- idempotent create ----------------------------------------------------------------
    def mark_payload(self, payload: dict[str, Any], marker: str) -> dict[str, Any]:
        return {**payload, self.marker_field: marker}

    def marker_of(self, raw: dict[str, Any]) -> str | None:
        value = raw.get(self.marker_field)
        return str(value) if value else None

    # --- helpers --------------------------------------------------------------------------
    def _first_field_of_type(self, class_name: str) -> str | None:
        for field in self.model._meta.get_fields():
            if type(field).__name__ == class_name:
                return field.name
        return None

    def _stream_field_names(self) -> Iterable[str]:
        if self.video_stream_fields is not None:
            return self.video_stream_fields
        return [f.name for f in self.model._meta.get_fields() if type(f).__name__ == "StreamField"]

    def _stream_blocks(self, page: Any) -> Iterator[tuple[str, Any]]:
        for name in self._stream_field_names():
            yield from _walk(getattr(page, name, None) or [])

    def _ids(self, page: Any, field: str | None, default: Iterable[int]) -> list[int]:
        if not field:
            return [int(i) for i in default or []]
        value = getattr(page, field, None)
        if value is None:
            return []
        if isinstance(value, models.Manager):
            return sorted(int(pk) for pk in value.values_list("pk", flat=True))
        if isinstance(value, int | str):
            return [int(value)]
        return [int(getattr(v, "pk", v)) for v in value]


def _walk(stream: Any) -> Iterator[tuple[str, Any]]:
    """(block_type, value) for every block, depth first, through structs, lists and streams."""
    for child in stream:
        block_type = getattr(child, "block_type", "") or ""
        value = getattr(child, "value", child)
        yield block_type, value
        if _is_video_value(value):
            continue
        if hasattr(value, "__iter__") and hasattr(value, "raw_data"):  # nested StreamValue
            yield from _walk(value)
        elif hasattr(value, "bound_blocks"):  # StructValue
            for name, sub in value.items():
                yield name, sub
                if hasattr(sub, "raw_data"):
                    yield from _walk(sub)


def _is_video_value(value: Any) -> bool:
    # Duck-typed so that subclasses of KollusVideoBlock (and the block module loading later
    # than this one) need no registration here.
    return hasattr(value, "media_content_key") and hasattr(value, "video")


def _is_blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | tuple | set | dict):
        return not value
    return False


def _has_content(html: str) -> bool:
    """Text, or an image/embed/video: what makes a description more than empty paragraphs."""
    return bool(strip_tags(html).strip()) or bool(re.search(r"<(img|iframe|video|embed)\b", html))


def _plain_text(value: Any) -> str:
    source = getattr(value, "source", value)
    return strip_tags(str(source or "")).strip()
