"""The editor's view of a page's sync: a panel at the top of the content tab.

``register_sync`` adds it automatically; a page with its own ``edit_handler`` places
``SyncStatusPanel()`` itself. It renders from the local link row only (no remote call) and
polls the plugin's status endpoint while a push is pending. Before a page has a content
record, it also says which fields the record would lack (the contents API would refuse it).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import Panel

from .registry import get_mapping
from .status import status_for_page

# What the editor calls the payload fields the contents API requires.
REQUIRED_FIELD_NAMES = {
    "title": _("a title"),
    "description_html": _("a description"),
    "category_ids": _("categories"),
    "featured_image": _("a featured image"),
}


def missing_fields(page: Any) -> list[dict[str, str]]:
    """What the first record of ``page`` would lack, each with what the editor can do."""
    mapping = get_mapping(page)
    if mapping is None:
        return []
    items = []
    for name in mapping.missing_required_fields(page):
        if name == "title":
            continue  # the page form requires a title itself (and a new page has none yet)
        source = mapping.source_field(name)
        try:
            field_label = capfirst(page._meta.get_field(source).verbose_name) if source else ""
        except FieldDoesNotExist:
            field_label = ""
        if field_label:
            hint = gettext("Fill in “%(field)s” before publishing.") % {"field": field_label}
        else:
            hint = gettext("This site sends no default for it: ask your site's developer.")
        items.append(
            {"name": name, "label": str(REQUIRED_FIELD_NAMES.get(name, name)), "hint": hint}
        )
    return items


class SyncStatusPanel(Panel):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("heading", _("Contents sync"))
        super().__init__(**kwargs)

    @property
    def clean_name(self) -> str:
        return super().clean_name or "kollus_sync_status"

    class BoundPanel(Panel.BoundPanel):
        template_name = "wagtail_kollus/sync/status_panel.html"

        def get_context_data(self, parent_context: Any = None) -> dict[str, Any]:
            context = super().get_context_data(parent_context)
            page = self.instance
            status = status_for_page(page) if page and page.pk else None
            context["status"] = status
            # Only a first push creates a record; later ones send what changed.
            has_record = status is not None and status.content_id is not None
            context["missing_fields"] = [] if has_record or page is None else missing_fields(page)
            return context
