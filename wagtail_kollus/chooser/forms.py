"""Search and filters of the chooser modal.

Wagtail's chooser JavaScript submits this form on typing (``#id_q``) and on change of any
field marked ``data-chooser-modal-search-filter``, and keeps the resulting querystring on its
pagination links: so a filter chosen here survives paging.

The search box is shown on its own; the other filters sit in a collapsed "Filters" area
(``wagtail_kollus/chooser/choose.html``), so the results start near the top of the modal.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms.choosers import BaseFilterForm

from ..api.types import Category
from ..conf import kollus_settings
from .language import API_LANGUAGES
from .remote import RemoteContentQuerySet

logger = logging.getLogger(__name__)

FILTER_ATTRS = {"data-chooser-modal-search-filter": True}

CONTENT_TYPE_CHOICES = [
    ("vod", _("VOD")),
    ("live", _("Live")),
    ("offline", _("Offline")),
    ("digital_content", _("Digital content")),
    ("", _("All types")),
]
DEFAULT_CONTENT_TYPE = "vod"

STATUS_CHOICES = [
    ("", _("Any status")),
    ("publish", _("Published")),
    ("pending", _("Pending")),
    ("paused", _("Paused")),
    ("in_review", _("In review")),
    ("banned", _("Banned")),
]

LANGUAGE_NAMES = {"ko": _("Korean"), "en": _("English"), "ja": _("Japanese")}

# Names of the URL parameters this form reads; the item step carries them along so that
# "Back to results" returns to the same filtered page.
FILTER_PARAMETERS = ("q", "content_type", "status", "category", "tag", "language", "p")


class ContentFilterForm(BaseFilterForm):
    q = forms.CharField(
        label=_("Search term"),
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("Search by title")}),
    )
    content_type = forms.ChoiceField(
        label=_("Type"),
        choices=CONTENT_TYPE_CHOICES,
        required=False,
        widget=forms.Select(attrs=FILTER_ATTRS),
    )
    status = forms.ChoiceField(
        label=_("Status"),
        choices=STATUS_CHOICES,
        required=False,
        widget=forms.Select(attrs=FILTER_ATTRS),
    )
    category = forms.TypedChoiceField(
        label=_("Category"),
        coerce=int,
        empty_value=None,
        required=False,
        widget=forms.Select(attrs=FILTER_ATTRS),
    )
    tag = forms.TypedChoiceField(
        label=_("Tag"),
        coerce=int,
        empty_value=None,
        required=False,
        widget=forms.Select(attrs=FILTER_ATTRS),
    )
    language = forms.ChoiceField(
        label=_("Language"),
        choices=[(code, LANGUAGE_NAMES[code]) for code in API_LANGUAGES],
        widget=forms.Select(attrs=FILTER_ATTRS),
    )

    # Shown in the collapsed "Filters" area, in this order (``q`` stays in view).
    more_filter_names = ("content_type", "status", "category", "tag", "language")

    def __init__(
        self,
        data: Any = None,
        *,
        default_language: str,
        categories: list[Category] | None = None,
        categories_notice: str = "",
        **kwargs: Any,
    ) -> None:
        # Defaults apply when the parameter is absent, not when it is empty: "All types"
        # (an empty content_type) is a real choice the editor can make.
        self.default_language = default_language
        #: Why the category filter is missing (its list could not be read), or "".
        self.categories_notice = categories_notice
        data = data.copy() if data is not None else {}
        if "content_type" not in data:
            data["content_type"] = DEFAULT_CONTENT_TYPE
        if not data.get("language"):
            data["language"] = default_language
        super().__init__(data, **kwargs)
        if categories is None:
            # The results fragment never renders the select, and the full modal cannot when
            # the categories call failed: a hidden number keeps a chosen category filtering
            # (and travelling with every search), and spares a categories call per keystroke.
            self.fields["category"] = _hidden_id_field()
        else:
            self.fields["category"].choices = [("", _("Any category"))] + [
                (category.category_id, category.path or category.name)
                for category in categories
                if category.category_id is not None
            ]
        tags = chooser_tags()
        if tags:
            self.fields["tag"].choices = [("", _("Any tag"))] + tags
        else:
            # No names configured: no select of bare numbers; a ?tag= link still filters.
            self.fields["tag"] = _hidden_id_field()

    @property
    def more_filters(self) -> list[forms.BoundField]:
        """The visible filters other than the search box, for the collapsed area."""
        return [
            self[name] for name in self.more_filter_names if not self.fields[name].widget.is_hidden
        ]

    @property
    def has_active_filters(self) -> bool:
        """Whether a filter other than search narrows the listing beyond the defaults.

        The collapsed area opens when it does (after "Back to results", say), so the editor
        sees why the listing is shorter.
        """
        data = self.data
        return bool(
            data.get("content_type", DEFAULT_CONTENT_TYPE) != DEFAULT_CONTENT_TYPE
            or any(data.get(name) for name in ("status", "category", "tag"))
            or self.selected_language != self.default_language
        )

    @property
    def selected_language(self) -> str:
        language = self.data.get("language")
        return language if language in API_LANGUAGES else self.default_language

    def api_filters(self) -> dict[str, Any]:
        """The cleaned values, named as ``ContentsClient.list_contents`` takes them."""
        data = self.cleaned_data
        return {
            "search": data.get("q") or None,
            "language": data.get("language") or None,
            "status": data.get("status") or None,
            "content_type": data.get("content_type") or None,
            "category_id": data.get("category"),
            "tag_id": data.get("tag"),
        }

    def filter(self, objects: RemoteContentQuerySet) -> RemoteContentQuerySet:
        filters = {k: v for k, v in self.api_filters().items() if v not in (None, "")}
        query = self.cleaned_data.get("q")
        if query:
            self.is_searching = True
            self.search_query = query
        return objects.filter(**filters) if filters else objects


def _hidden_id_field() -> forms.IntegerField:
    return forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)


def chooser_tags() -> list[tuple[int, str]]:
    """``CHOOSER_TAGS`` as (id, name) choices sorted by name; malformed entries are skipped.

    The contents API names no tags (records carry only ``tag_ids``), so their names come from
    the site: ``{21: "Beginner", 22: "Advanced"}`` or a list of ``(id, name)`` pairs.
    """
    configured = kollus_settings.CHOOSER_TAGS or {}
    pairs: Iterable[Any] = configured.items() if isinstance(configured, Mapping) else configured
    tags: list[tuple[int, str]] = []
    try:
        for pair in pairs:
            try:
                tag_id, name = pair
                tags.append((int(tag_id), str(name)))
            except (TypeError, ValueError):
                logger.warning("WAGTAIL_KOLLUS['CHOOSER_TAGS']: ignoring %r", pair)
    except TypeError:
        logger.warning("WAGTAIL_KOLLUS['CHOOSER_TAGS'] must be a dict of id: name")
        return []
    return sorted(tags, key=lambda tag: tag[1].casefold())
