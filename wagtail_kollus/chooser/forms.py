"""Search and filters of the chooser modal.

Wagtail's chooser JavaScript submits this form on typing (``#id_q``) and on change of any
field marked ``data-chooser-modal-search-filter``, and keeps the resulting querystring on its
pagination links: so a filter chosen here survives paging.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms.choosers import BaseFilterForm

from ..api.types import Category
from .language import API_LANGUAGES
from .remote import RemoteContentQuerySet

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
    tag = forms.IntegerField(
        label=_("Tag ID"),
        required=False,
        min_value=1,
        widget=forms.NumberInput(attrs=FILTER_ATTRS),
    )
    language = forms.ChoiceField(
        label=_("Language"),
        choices=[(code, LANGUAGE_NAMES[code]) for code in API_LANGUAGES],
        widget=forms.Select(attrs=FILTER_ATTRS),
    )

    def __init__(
        self,
        data: Any = None,
        *,
        default_language: str,
        categories: list[Category] | None = None,
        **kwargs: Any,
    ) -> None:
        # Defaults apply when the parameter is absent, not when it is empty: "All types"
        # (an empty content_type) is a real choice the editor can make.
        self.default_language = default_language
        data = data.copy() if data is not None else {}
        if "content_type" not in data:
            data["content_type"] = DEFAULT_CONTENT_TYPE
        if not data.get("language"):
            data["language"] = default_language
        super().__init__(data, **kwargs)
        if categories is None:
            # The results fragment never renders the select: validating the id as a number is
            # enough, and it spares a categories call on every keystroke and page.
            self.fields["category"] = forms.IntegerField(required=False, min_value=1)
        else:
            self.fields["category"].choices = [("", _("Any category"))] + [
                (category.category_id, category.path or category.name)
                for category in categories
                if category.category_id is not None
            ]

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
