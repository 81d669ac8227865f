"""django-q2 tasks of the video lifecycle. Thin: primitive arguments, the work is in
:mod:`.services`, each run re-reads the database and the API there, and is safe to repeat.

Views, callbacks and the sweep queue these through :mod:`.jobs`, which waits for the commit
so a worker never looks for a row that is not there yet.
"""

from __future__ import annotations

from ..conf import kollus_settings
from ..models import ImportStatus
from . import services, stale
from .importing import run_import
from .jobs import enqueue_now


def process_callback(fingerprint: str, attempt: int = 0) -> str:
    """Act on one logged callback (``services.process_delivery``).

    ``attempt`` is ignored (retries are counted on the delivery), kept only so that jobs
    queued by earlier versions still run.
    """
    return services.process_delivery(fingerprint)


def refresh_media(media_id: int) -> str:
    """Re-read one media from Kollus (``services.refresh_media``)."""
    return services.refresh_media(int(media_id))


def push_metadata(media_id: int, attempt: int = 0) -> str:
    """Send the row's title and category to Kollus (``services.push_metadata``)."""
    return services.push_metadata(int(media_id), int(attempt))


# Named as tasks in the documentation before the services existed (docs/callbacks.md):
# still importable from here.
retry_delivery = services.retry_delivery
sweep_deliveries = services.sweep_deliveries


def import_library(run_id: int) -> str:
    """Go on with a library import run for a slice of time, then queue the next slice
    (``media.importing.run_import``): a run of any size stays below django-q2's ``timeout``,
    and the cursor is saved after every page."""
    run = run_import(int(run_id), max_seconds=float(kollus_settings.IMPORT_TASK_SECONDS))
    if run.status == ImportStatus.QUEUED:
        enqueue_now("import_library", run.pk)
    return f"{run.status}: page {run.next_page}, {run.seen} media read"


def resync_stale_media() -> str:
    """Scheduled: re-read rows not refreshed for ``MEDIA_RESYNC_HOURS`` (``media.stale``)."""
    return stale.resync_stale_media()
