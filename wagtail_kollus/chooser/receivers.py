"""Keep library videos chosen from the upload tab in step with their media.

An editor may choose a video the moment its upload reaches 100 %, before Kollus has assigned a
media content key; the page shows a placeholder until the key arrives here, with the worker's
``video_ready`` (and later title or poster changes, with ``video_updated``).
"""

from __future__ import annotations

import logging
from typing import Any

from django.dispatch import receiver

from ..signals import video_ready, video_updated
from .copying import refresh_library_videos

logger = logging.getLogger(__name__)


@receiver(video_ready, dispatch_uid="wagtail_kollus.chooser.library_video_ready")
@receiver(video_updated, dispatch_uid="wagtail_kollus.chooser.library_video_updated")
def refresh_library_video(sender: Any, instance: Any, **kwargs: Any) -> None:
    try:
        refresh_library_videos(instance)
    except Exception:  # receivers must not raise (wagtail_kollus.signals)
        logger.exception("Could not refresh the chosen library video of media %s", instance.pk)
