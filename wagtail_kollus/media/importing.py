"""Copy the Kollus library into the local mirror: every media the API lists, newest first.

Callbacks only report what changes from now on, so videos that were on Kollus before the site
was connected would never appear in the library. This reads the list in pages of 100 (one
API call each, within the client's shared rate limit: the list carries every field the
library shows, so no media costs a detail call) and writes each media through
:func:`.services.mirror_from_remote`, exactly as callbacks and refreshes do: running it twice
changes nothing, and a video deleted here stays deleted.

Two ways in:

* :func:`import_library` reads the whole list in one go (``make demo``'s ``seed_demo``);
* :func:`run_import` works through a :class:`~wagtail_kollus.models.KollusImportRun`, which
  records after each page where it got to (``next_page``), so a run stopped by an outage, a
  ``Ctrl-C`` or a killed worker goes on from there (``manage.py kollus_import`` and the
  admin's "Import from Kollus" screen, whose django-q2 task is :func:`.tasks.import_library`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .. import leases
from ..accounts import KollusAccount, kollus_client
from ..api.errors import KollusAPIError
from ..api.redaction import redact
from ..api.types import Media
from ..messages import Message, columns
from ..models import ImportStatus, KollusImportRun, KollusMedia
from .explain import explain
from .services import mirror_from_remote

logger = logging.getLogger(__name__)

PAGE_SIZE = 100  # the most Kollus returns in one page
# A worker's lease on a run, renewed after every page. A page is one call (which the shared
# rate limiter may hold up to a minute when other work used the minute's 60 calls) and up to
# 100 row writes: two minutes leave room. Keep django-q2's ``timeout`` below it.
IMPORT_CLAIM_SECONDS = 120.0

ImportProgress = Callable[[KollusImportRun], None]


def mirror_page(items: list[Media], *, client: Any, account: KollusAccount) -> tuple[int, int]:
    """Mirror one listed page; ``(new rows, rows already in the library)``."""
    keys = [remote.upload_file_key for remote in items if remote.upload_file_key]
    known = set(
        KollusMedia.objects.filter(upload_file_key__in=keys).values_list(
            "upload_file_key", flat=True
        )
    )
    for remote in items:
        if remote.upload_file_key:
            mirror_from_remote(remote.upload_file_key, remote, client=client, account=account)
    return len(set(keys) - known), len(known)


def import_library(
    *, limit: int | None = None, client: Any = None, account: KollusAccount | None = None
) -> int:
    """Mirror up to ``limit`` media (all when ``None``) of ``account`` (default: the settings'
    account), read with ``client`` (default: a client of the account); return how many rows
    were written."""
    account = account or KollusAccount.from_settings()
    client = client or kollus_client(account)
    written = 0
    page = 1
    while limit is None or written < limit:
        listing = client.list_media(page=page, per_page=PAGE_SIZE)
        items = [remote for remote in listing.items if remote.upload_file_key]
        if limit is not None:
            items = items[: limit - written]
        mirror_page(items, client=client, account=account)
        written += len(items)
        if not listing.items or not listing.pagination.has_more_pages:
            break
        page += 1
    return written


# --- runs -----------------------------------------------------------------------------------
def unfinished_run() -> KollusImportRun | None:
    """The latest run that has not read the whole list, if any: the one to resume."""
    return KollusImportRun.objects.exclude(status=ImportStatus.FINISHED).first()


def latest_run() -> KollusImportRun | None:
    return KollusImportRun.objects.first()


def start_or_resume(user: Any = None) -> tuple[KollusImportRun, bool]:
    """The unfinished run, marked queued again, or a new run; ``(run, created)``.

    A run that stopped keeps its cursor: resuming reads from the page it had not written yet.
    """
    run = unfinished_run()
    if run is not None:
        KollusImportRun.objects.filter(pk=run.pk).exclude(status=ImportStatus.RUNNING).update(
            status=ImportStatus.QUEUED, updated_at=timezone.now()
        )
        run.refresh_from_db()
        return run, False
    user = user if getattr(user, "pk", None) else None
    return KollusImportRun.objects.create(started_by=user, per_page=PAGE_SIZE), True


def is_active(run: KollusImportRun) -> bool:
    """A worker holds the run right now (its lease has not expired)."""
    return bool(run.claimed_until and run.claimed_until > timezone.now())


def describe_error(error: BaseException, account: KollusAccount) -> Message:
    """Why a run stopped, for the editor (never a secret: API messages are redacted)."""
    if isinstance(error, KollusAPIError):
        return Message.gettext(
            "Kollus did not answer as expected: %(reason)s", reason=explain(error)
        )
    if isinstance(error, KeyboardInterrupt):
        return Message.gettext("The import was interrupted.")
    # A local error's text may hold a URL with the access token: redact it.
    return Message.gettext(
        "The import stopped: %(reason)s",
        reason=redact(f"{error.__class__.__name__}: {error}", account.secret_values()),
    )


def run_import(
    run_id: int,
    *,
    client: Any = None,
    account: KollusAccount | None = None,
    progress: ImportProgress | None = None,
    max_seconds: float | None = None,
) -> KollusImportRun:
    """Go on with run ``run_id`` from its cursor until the list ends, an error, or
    ``max_seconds`` have passed (then the run is left queued for the next slice).

    Returns the run as it ended. A run another worker holds is left alone (returned as it
    is). Kollus errors end the run as "stopped", with the reason; the cursor stays on the
    page that failed, so resuming reads it again. Anything else (``KeyboardInterrupt``, a bug)
    is recorded the same way and raised.
    """
    rows = KollusImportRun.objects.filter(pk=run_id).exclude(status=ImportStatus.FINISHED)
    claim = leases.claim(
        rows,
        seconds=IMPORT_CLAIM_SECONDS,
        respect_backoff=False,
        status=ImportStatus.RUNNING,
        updated_at=timezone.now(),
        **columns("error_message", None),
    )
    if claim is None:
        return KollusImportRun.objects.get(pk=run_id)
    account = account or KollusAccount.from_settings()
    client = client or kollus_client(account)
    mine = leases.held(rows, claim.token)
    started = time.monotonic()
    try:
        while True:
            run = KollusImportRun.objects.get(pk=run_id)
            KollusImportRun.objects.filter(pk=run_id).update(api_calls=F("api_calls") + 1)
            listing = client.list_media(page=run.next_page, per_page=run.per_page)
            more = bool(listing.items) and listing.pagination.has_more_pages
            with transaction.atomic():
                created, known = mirror_page(listing.items, client=client, account=account)
                # The cursor moves in the same commit as the rows: a run killed at any point
                # resumes at the first page whose rows are not all written.
                kept = mine.update(
                    next_page=F("next_page") + (1 if more else 0),
                    seen=F("seen") + len(listing.items),
                    created_count=F("created_count") + created,
                    updated_count=F("updated_count") + known,
                    total=listing.pagination.total or None,
                    claimed_until=leases.lease_end(IMPORT_CLAIM_SECONDS),
                    updated_at=timezone.now(),
                )
                if not kept:  # our lease expired and another worker took the run over
                    transaction.set_rollback(True)
                    return KollusImportRun.objects.get(pk=run_id)
            run = KollusImportRun.objects.get(pk=run_id)
            if progress is not None:
                progress(run)
            if not more:
                leases.release(
                    mine,
                    claim.token,
                    status=ImportStatus.FINISHED,
                    finished_at=timezone.now(),
                    **columns("error_message", None),
                )
                break
            if max_seconds is not None and time.monotonic() - started >= max_seconds:
                # Dated: the screen tells a run between two slices from one whose job was lost.
                leases.release(
                    mine, claim.token, status=ImportStatus.QUEUED, updated_at=timezone.now()
                )
                break
    except (Exception, KeyboardInterrupt) as error:
        reason = describe_error(error, account)
        logger.warning("Kollus library import #%s stopped: %s", run_id, reason.english())
        leases.recover_connections(error)
        leases.release(
            mine,
            claim.token,
            status=ImportStatus.FAILED,
            updated_at=timezone.now(),
            **columns("error_message", reason),
        )
        if not isinstance(error, KollusAPIError):
            raise
    return KollusImportRun.objects.get(pk=run_id)
