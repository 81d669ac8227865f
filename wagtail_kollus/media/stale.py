"""The scheduled resync of stale rows (the wagtail-bynder ``update_stale_*`` model).

Callbacks keep rows current between runs (a content-update callback re-reads the media, a
channel callback its channels: ``media.callbacks``), but a callback can be lost (the site
was down through Kollus's three retries, the console's callback URL was wrong for a while).
So every ``MEDIA_RESYNC_HOURS`` hours the rows not refreshed for that long are re-read
— through the media *list*, 100 a call, not one detail call each — and the listing stops as
soon as every stale row was seen. Rows the listing no longer holds are queued for a single
refresh, which withdraws them from pages if Kollus says they are gone.

A run that stops half-way (an outage, a killed worker) loses nothing: what it refreshed is
no longer stale, the rest is read by the next run. Install the schedule with
``manage.py kollus_import --install-schedule`` (idempotent: run it on every deploy).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django_q.models import Schedule

from ..accounts import KollusAccount, kollus_client
from ..conf import kollus_settings
from ..models import KollusMedia, MediaState
from ..queue import ensure_schedule as ensure
from . import jobs
from .importing import PAGE_SIZE, mirror_page

SCHEDULE_NAME = "wagtail_kollus: resync stale media"
TASK_PATH = "wagtail_kollus.media.tasks.resync_stale_media"


def stale_media(hours: float | None = None) -> Any:
    """Rows with a Kollus upload not refreshed for ``hours`` (default ``MEDIA_RESYNC_HOURS``).

    Uploads still in the browser's hands are left to the stuck-upload rules.
    """
    hours = kollus_settings.MEDIA_RESYNC_HOURS if hours is None else hours
    cutoff = timezone.now() - timedelta(hours=float(hours))
    return (
        KollusMedia.objects.exclude(state__in=(MediaState.DELETED, MediaState.UPLOADING))
        .exclude(Q(upload_file_key=None) | Q(upload_file_key=""))
        .filter(Q(last_refreshed_at__isnull=True) | Q(last_refreshed_at__lt=cutoff))
    )


def resync_stale_media(
    hours: float | None = None, *, client: Any = None, account: KollusAccount | None = None
) -> str:
    """Re-read the stale rows through the media list; returns a summary.

    No stale row, no API call. The list is read until every stale row was seen or it ends.
    """
    stale = set(stale_media(hours).values_list("upload_file_key", flat=True))
    if not stale:
        return "no stale media"
    total = len(stale)
    account = account or KollusAccount.from_settings()
    client = client or kollus_client(account)
    page, calls = 1, 0
    while stale:
        listing = client.list_media(page=page, per_page=PAGE_SIZE)
        calls += 1
        wanted = [remote for remote in listing.items if remote.upload_file_key in stale]
        mirror_page(wanted, client=client, account=account)
        stale.difference_update(remote.upload_file_key for remote in wanted)
        if not listing.items or not listing.pagination.has_more_pages:
            break
        page += 1
    # Not listed any more: one detail call each tells a deletion from a listing's hiccup.
    unlisted = list(
        KollusMedia.objects.filter(upload_file_key__in=stale).values_list("pk", flat=True)
    )
    if unlisted:
        jobs.enqueue_many("refresh_media", [(pk,) for pk in unlisted])
    return (
        f"refreshed {total - len(stale)} of {total} stale media in {calls} list call(s); "
        f"queued {len(unlisted)} unlisted"
    )


def ensure_schedule() -> tuple[Any, bool]:
    """Create the resync's schedule (every ``MEDIA_RESYNC_HOURS`` hours) unless it exists."""
    minutes = max(1, int(float(kollus_settings.MEDIA_RESYNC_HOURS) * 60))
    return ensure(SCHEDULE_NAME, TASK_PATH, schedule_type=Schedule.MINUTES, minutes=minutes)
