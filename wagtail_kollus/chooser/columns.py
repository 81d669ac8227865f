"""Table columns of the chooser listing; rows are ``api.types.Content`` records."""

from __future__ import annotations

from collections.abc import Callable

from django.utils.translation import gettext_lazy as _
from wagtail.admin.ui.tables import Column, DateColumn, StatusTagColumn, TitleColumn

from ..api.types import Content
from .copying import http_url_or_blank
from .forms import CONTENT_TYPE_CHOICES, STATUS_CHOICES

CONTENT_TYPE_LABELS = {value: label for value, label in CONTENT_TYPE_CHOICES if value}
STATUS_LABELS = {value: label for value, label in STATUS_CHOICES if value}


class ThumbnailColumn(Column):
    """The content's featured image, small; remote URLs only ever go into ``src``, escaped."""

    cell_template_name = "wagtail_kollus/chooser/thumbnail_cell.html"


def category_names(content: Content) -> str:
    return ", ".join(category.name for category in content.categories if category.name)


def content_columns(get_url: Callable[[Content], str]) -> list[Column]:
    """The listing's columns; ``get_url`` gives the link of a row (its item step)."""
    return [
        ThumbnailColumn(
            "thumbnail",
            label="",
            accessor=lambda c: http_url_or_blank(c.featured_image),
            width="1%",
        ),
        TitleColumn(
            "title",
            label=_("Title"),
            accessor="title",
            get_url=get_url,
            link_attrs={"data-chooser-modal-choice": True},
        ),
        Column(
            "content_type",
            label=_("Type"),
            accessor=lambda c: CONTENT_TYPE_LABELS.get(c.content_type, c.content_type),
        ),
        StatusTagColumn(
            "status",
            label=_("Status"),
            accessor=lambda c: STATUS_LABELS.get(c.status, c.status),
            primary=lambda c: c.status == "publish",
        ),
        Column("category", label=_("Category"), accessor=category_names),
        DateColumn("updated_at", label=_("Updated"), accessor="updated_at"),
    ]
