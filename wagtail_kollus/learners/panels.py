"""The page editor's panel: the page's completion figures, and a link to its report.

Place ``ProgressPanel()`` in a lesson page type's panels (``content_panels`` or
``settings_panels``). Only editors who may view learner progress see it; it reads the page's
rows with the report's one aggregate query, never the learners themselves.
"""

from __future__ import annotations

from typing import Any

from django.forms import Media
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import Panel

from .permissions import user_can_view_progress


class ProgressPanel(Panel):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("heading", _("Learner progress"))
        super().__init__(**kwargs)

    @property
    def clean_name(self) -> str:
        return super().clean_name or "kollus_learner_progress"

    class BoundPanel(Panel.BoundPanel):
        template_name = "wagtail_kollus/learners/panel.html"

        @property
        def media(self) -> Media:
            return Media(css={"all": [static("wagtail_kollus/css/stats.css")]})

        def is_shown(self) -> bool:
            return super().is_shown() and user_can_view_progress(self.request.user)

        def get_context_data(self, parent_context: Any = None) -> dict[str, Any]:
            context = super().get_context_data(parent_context)
            from .figures import PageProgress  # the models may still be loading at import

            page = self.instance
            if page is not None and page.pk:
                context["figures"] = PageProgress(page.pk).figures()
                context["report_url"] = reverse("wagtail_kollus_progress:page", args=[page.pk])
            return context
