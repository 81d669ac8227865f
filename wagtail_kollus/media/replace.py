"""Replace the source file of a video while keeping its media content keys.

Every page and content record plays a media content key (per channel), not a file. Kollus's
"Replace with another content" keeps those keys and swaps the file behind them, so replacing
needs no page edits. The flow:

1. the editor uploads a new file from the video's "Replace source" page (the normal upload
   flow, with ``?replace=<id>``); the old row's ``replacement`` points at the new upload;
2. when the new upload's transcoding callback says it is ready, the worker calls
   :func:`complete_replacements`, which asks Kollus to replace (the one call below) and
   refreshes the old row.

ASSUMED API (Kollus documents replace only as a console feature): ``KollusClient.replace_media
(target_ufk, source_upload_file_key)`` → ``POST /api/media-contents/{target}/replace`` with form
field ``source_upload_file_key`` (path name ``media_replace`` in ``api/paths.py``, overridable
with ``KOLLUS_API_PATHS``). The new upload stays in the library as its own media.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import signals
from ..api.errors import KollusAPIError
from ..availability import apply_media
from ..models import KollusMedia, MediaState
from .mirror import apply_remote_media
from .object_views import MediaObjectView
from .upload import upload_form_context

logger = logging.getLogger(__name__)


def replace_source(client: Any, target: KollusMedia, source: KollusMedia) -> Any:
    """The single place that calls Kollus's (assumed) replace API."""
    return client.replace_media(target.upload_file_key, source.upload_file_key)


def complete_replacements(source: KollusMedia, *, client: Any) -> list[KollusMedia]:
    """Point every video waiting for ``source`` at its file; return the rows replaced."""
    done = []
    for target in KollusMedia.objects.filter(replacement=source).exclude(state=MediaState.DELETED):
        try:
            remote = replace_source(client, target, source)
        except KollusAPIError as error:
            logger.warning("Replacing %s failed: %s", target.pk, error.describe())
            KollusMedia.objects.filter(pk=target.pk).update(
                error_message=_("Replacing the source failed: %(reason)s")
                % {"reason": error.describe()}
            )
            continue
        change = apply_remote_media(target, remote)
        target.replacement = None
        target.error_message = ""
        with transaction.atomic():
            target.save()
            # Kollus may answer with the target transcoding its new file, or with new keys:
            # its chosen videos follow in the same commit (pages read only the video rows).
            apply_media(target)
        done.append(target)
        transaction.on_commit(
            lambda row=target, fields=list(change.changed_fields): (
                signals.send_robustly(
                    signals.video_updated,
                    sender=KollusMedia,
                    instance=row,
                    changed_fields=fields,
                    replaced_by=source,
                ),
                signals.send_robustly(signals.video_ready, sender=KollusMedia, instance=row),
            )
        )
    return done


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
