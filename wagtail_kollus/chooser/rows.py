"""What one row of the chooser listing shows, computed once per row in Python.

The listing is rendered by a single template loop (``wagtail_kollus/chooser/results.html``)
rather than Wagtail's per-cell table components: six columns of twenty rows as components
cost more than the remote call itself (see ``benchmarks/chooser.py``). The markup keeps
Wagtail's listing classes, so it looks the same.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from ..api.types import Content
from .copying import http_url_or_blank
from .forms import CONTENT_TYPE_CHOICES, STATUS_CHOICES

CONTENT_TYPE_LABELS = {value: label for value, label in CONTENT_TYPE_CHOICES if value}
STATUS_LABELS = {value: label for value, label in STATUS_CHOICES if value}


@dataclass(frozen=True)
class ContentRow:
    url: str
    title: str
    thumbnail_url: str
    type_label: str
    status_label: str
    is_published: bool
    categories: str
    updated_at: datetime | None

    @property
    def updated_iso(self) -> str:
        return self.updated_at.isoformat() if self.updated_at else ""


def content_row(content: Content, url: str) -> ContentRow:
    return ContentRow(
        url=url,
        title=content.title,
        thumbnail_url=http_url_or_blank(content.featured_image),
        type_label=str(CONTENT_TYPE_LABELS.get(content.content_type, content.content_type)),
        status_label=str(STATUS_LABELS.get(content.status, content.status)),
        is_published=content.status == "publish",
        categories=", ".join(c.name for c in content.categories if c.name),
        updated_at=content.updated_at,
    )


def content_rows(contents: list[Content], get_url: Callable[[Content], str]) -> list[ContentRow]:
    return [content_row(content, get_url(content)) for content in contents]
