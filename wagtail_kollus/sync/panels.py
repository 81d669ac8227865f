"""The editor's view of a page's sync: a panel at the top of the content tab.

``register_sync`` adds it automatically; a page with its own ``edit_handler`` places
``SyncStatusPanel()`` itself. It renders from the local link row only (no remote call) and
polls the plugin's status endpoint while a push is pending.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import Panel

from .status import status_for_page


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
            context["status"] = status_for_page(page) if page and page.pk else None
            return context
