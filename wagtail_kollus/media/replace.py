"""Replace the source file of a video while keeping its media content keys.

Every page and content record plays a media content key (per channel), not a file. Kollus's
"Replace with another content" keeps those keys and swaps the file behind them, so replacing
needs no page edits. The flow:

1. the editor uploads a new file from the video's "Replace source" page (the normal upload
   flow, with ``?replace=<id>``); the old row's ``replacement`` points at the new upload;
2. when the new upload's transcoding callback says it is ready, the worker calls
   :func:`.services.complete_replacements`, which asks Kollus to replace (the one call,
   :func:`.services.replace_source`, whose API is assumed) and refreshes the old row.

This module is the editor's side: the "Replace source" page.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy

from ..models import MediaState
from .object_views import MediaObjectView
from .upload import upload_form_context


class ReplaceView(MediaObjectView):
    """The upload form for a new source of an existing, ready video."""

    permission_required = "change"
    template_name = "wagtail_kollus/media/replace.html"
    page_title = gettext_lazy("Replace source")
    header_icon = "upload"

    def get_context_data(self, **kwargs: Any) -> dict:
        context = super().get_context_data(**kwargs)
        context["object"] = self.object
        context["can_replace"] = self.object.state == MediaState.READY
        context["pending"] = self.object.replacement
        context.update(upload_form_context(self.request, replace=self.object))
        return context
