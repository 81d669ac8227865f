"""``manage.py kollus_sync``: push pages to their content records, or pull the records.

manage.py kollus_sync                     # queue every live page of every synced type
manage.py kollus_sync --page 12 --page 40 # only these pages
manage.py kollus_sync --type courses.CoursePage
manage.py kollus_sync --now               # push in this process (no cluster needed)
manage.py kollus_sync --resume 2026-12-07T02:40:00+00:00
                                          # go on after an interrupted run (it prints this)
manage.py kollus_sync --pending           # re-queue pages still waiting (after an outage)
manage.py kollus_sync --new               # only pages never queued (added in bulk, say)
manage.py kollus_sync --pull              # refresh the local ContentRecord mirror
                                          # and the availability of chosen videos
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy
from wagtail.models import Page

from wagtail_kollus.accounts import contents_client
from wagtail_kollus.api.errors import KollusAPIError, NotFoundError
from wagtail_kollus.availability import (
    AvailabilityChanges,
    apply_content,
    chosen_content_languages,
    withdraw_content,
)
from wagtail_kollus.conf import kollus_settings
from wagtail_kollus.management.interrupts import CountedCommit, interrupted
from wagtail_kollus.management.options import moment
from wagtail_kollus.models.sync import ContentRecord, PageContentLink, SyncState
from wagtail_kollus.queue import QUEUE_BATCH
from wagtail_kollus.sync.engine import (
    bulk_requested_at,
    record_fields,
    request_sync,
    request_syncs,
    sync_page,
)
from wagtail_kollus.sync.registry import is_synced, registered_models
from wagtail_kollus.sync.tasks import sweep_outstanding


def _requested_since(since: datetime) -> Any:
    """The page's link, if its push was requested since ``since`` and has not failed."""
    return PageContentLink.objects.filter(
        page_key=OuterRef("pk"), requested_at__gte=since
    ).exclude(state=SyncState.FAILED)


def _key_batches(pages: Any, size: int) -> Iterator[list[int]]:
    """The pages' ids in order, ``size`` at a time, each batch read whole (keyset paging: no
    cursor is left open between batches, whatever the caller does meanwhile)."""
    last = 0
    while True:
        keys = list(pages.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:size])
        if not keys:
            return
        yield keys
        last = keys[-1]


# The summary's words, translated as it is printed; the counters keep the engine's words
# (``sync_page()``'s results), which the command itself tests ("failed").
OUTCOME_LABELS = {
    "queued": pgettext_lazy("kollus_sync summary", "queued"),
    "skipped": pgettext_lazy("kollus_sync summary", "skipped"),
    "not live": pgettext_lazy("kollus_sync summary", "not live"),
    "synced": pgettext_lazy("kollus_sync summary", "synced"),
    "retrying": pgettext_lazy("kollus_sync summary", "retrying"),
    "failed": pgettext_lazy("kollus_sync summary", "failed"),
    "idle": pgettext_lazy("kollus_sync summary", "nothing to do"),
}


def _summary(outcomes: Counter[str]) -> str:
    return (
        ", ".join(
            f"{OUTCOME_LABELS.get(name, name)}: {count}"
            for name, count in sorted(outcomes.items())
        )
        or "-"
    )


class CountBar:
    """``label [#####     ] 12/40`` on one line; redrawn at most ten times a second."""

    width = 30

    def __init__(self, stream: Any, label: str, total: int | None, enabled: bool) -> None:
        self.stream, self.label, self.total, self.enabled = stream, label, total, enabled
        self.last_draw = 0.0

    def update(self, done: int, total: int | None = None) -> None:
        self.total = total if total is not None else self.total
        now = time.monotonic()
        if not self.enabled or (now - self.last_draw < 0.1 and done != self.total):
            return
        self.last_draw = now
        total = self.total or max(done, 1)
        filled = int(self.width * min(done / total, 1.0))
        self.stream.write(
            f"\r{self.label} [{'#' * filled}{' ' * (self.width - filled)}] {done}/{total}",
            ending="",
        )
        self.stream.flush()

    def done(self) -> None:
        if self.enabled:
            self.stream.write("")


class Command(BaseCommand):
    help = _("Push pages to their contents API records, or pull the records into the mirror.")

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--page", type=int, action="append", default=[], help=_("Page ID."))
        parser.add_argument(
            "--type", action="append", default=[], help=_("Page type as app_label.ModelName.")
        )
        parser.add_argument(
            "--now", action="store_true", help=_("Push in this process instead of queuing.")
        )
        parser.add_argument(
            "--pending", action="store_true", help=_("Re-queue pages whose push is outstanding.")
        )
        parser.add_argument(
            "--new",
            action="store_true",
            help=_("Only pages never queued for a push (no sync row yet)."),
        )
        parser.add_argument(
            "--pull", action="store_true", help=_("Refresh the ContentRecord mirror from the API.")
        )
        parser.add_argument(
            "--pause",
            type=float,
            default=0.2,
            help=_("Seconds between two list calls of --pull (stay within API limits)."),
        )
        parser.add_argument(
            "--language", default=None, help=_("Language of --pull (default: DEFAULT_LANGUAGE).")
        )
        parser.add_argument(
            "--resume",
            type=moment,
            metavar="WHEN",
            help=_(
                "Skip pages queued since WHEN (an ISO date and time) that did not fail: "
                "what an interrupted run had done. The command prints the value to give."
            ),
        )
        parser.add_argument("--no-progress", action="store_true", help=_("No progress bar."))

    def handle(self, *args: Any, **options: Any) -> None:
        self.show_progress = not options["no_progress"] and options["verbosity"] > 0
        if options["pull"]:
            return self.pull(options["pause"], options["language"])
        if options["pending"]:
            count = sweep_outstanding()
            self.stdout.write(_("%(count)d outstanding page(s) queued.") % {"count": count})
            return None
        return self.push(
            options["page"], options["type"], options["now"], options["resume"], options["new"]
        )

    # --- push -----------------------------------------------------------------------------
    def _pages(self, page_ids: list[int], type_labels: list[str]) -> Any:
        models = registered_models()
        if not models:
            raise CommandError(_("No page type is registered with register_sync()."))
        if type_labels:
            chosen = []
            for label in type_labels:
                try:
                    model = apps.get_model(label)
                except (LookupError, ValueError) as error:
                    raise CommandError(
                        _("Unknown page type %(label)s.") % {"label": label}
                    ) from error
                if model not in models:
                    raise CommandError(_("%(label)s does not sync.") % {"label": label})
                chosen.append(model)
            models = chosen
        pages = Page.objects.type(*models)
        if page_ids:
            pages = pages.filter(pk__in=page_ids)
        return pages

    def push(
        self,
        page_ids: list[int],
        type_labels: list[str],
        now: bool,
        resume: datetime | None,
        new: bool = False,
    ) -> None:
        """Queue (or, ``now``, push) the pages in batches of ``QUEUE_BATCH``.

        The ids are read a batch at a time and each batch is one transaction: no cursor stays
        open while jobs are queued (django-q2's ORM broker closes the connection under it, and
        on SQLite the open read made the outbox writes fail with "database is locked" once a
        worker wrote), and a worker waits at most one batch for SQLite's write lock.
        """
        pages = self._pages(page_ids, type_labels)
        if resume is not None:
            pages = pages.exclude(Exists(_requested_since(resume)))
        if new:
            # A page published while its type synced has its row already (the publish queued
            # it): only pages from before, or written without signals, lack one.
            pages = pages.exclude(Exists(PageContentLink.objects.filter(page_key=OuterRef("pk"))))
        # What --resume compares with: the requests this run makes are dated from here.
        started = bulk_requested_at()
        total = pages.count()
        if self.show_progress and not now:
            self.stdout.write(
                _("If this stops, queue the rest with: --resume %(started)s")
                % {"started": started.isoformat()}
            )
        bar = CountBar(self.stdout, _("Pages"), total, self.show_progress)
        outcomes: Counter[str] = Counter()
        done = 0
        commit = CountedCommit()  # what Ctrl-C reports is what was committed
        try:
            for keys in _key_batches(pages, QUEUE_BATCH):
                batch = list(Page.objects.filter(pk__in=keys).order_by("path").specific())
                done += len(keys) - len(batch)  # deleted meanwhile
                wanted = []
                for page in batch:
                    if not is_synced(page):
                        outcomes["skipped"] += 1
                    elif not page.live:
                        outcomes["not live"] += 1
                    else:
                        wanted.append(page)
                try:
                    with transaction.atomic():
                        if now:
                            requested = [
                                p.pk
                                for p in wanted
                                if request_sync(p, enqueue=False, settled=True)
                            ]
                        else:
                            requested = request_syncs(wanted)
                        commit.hold()
                    if not now:
                        outcomes["queued"] += len(requested)
                        done += len(batch)
                finally:
                    commit.release()
                for key in requested if now else ():
                    outcomes[sync_page(key)] += 1
                if now:
                    done += len(batch)
                bar.update(done)
        except KeyboardInterrupt:
            bar.done()
            raise interrupted(
                _(
                    "Interrupted after %(done)d of %(total)d page(s) (%(summary)s). "
                    "Nothing is lost: run the same command with --resume %(started)s to go on."
                )
                % {
                    "done": done,
                    "total": total,
                    "summary": _summary(outcomes),
                    "started": started.isoformat(),
                }
            ) from None
        except Exception as error:
            bar.done()
            self.stderr.write(
                _(
                    "Stopped after %(done)d of %(total)d page(s) (%(summary)s): %(error)s. "
                    "Nothing is lost: run the same command with --resume %(started)s to go on."
                )
                % {
                    "done": done,
                    "total": total,
                    "summary": _summary(outcomes),
                    "error": error.__class__.__name__,
                    "started": started.isoformat(),
                }
            )
            raise
        bar.done()
        self.stdout.write(
            _("%(total)d page(s). %(summary)s") % {"total": total, "summary": _summary(outcomes)}
        )
        if outcomes.get("queued"):
            self.stdout.write(
                _("Queued is not pushed yet: the cluster pushes them; see Reports → Contents sync.")
            )
        if outcomes.get("failed"):
            self.stderr.write(_("Some pushes failed: see Reports → Contents sync."))

    # --- pull -----------------------------------------------------------------------------
    def pull(self, pause: float, language: str | None) -> None:
        """Mirror every record listed in ``language``; then make the chosen videos follow
        their records (``wagtail_kollus.availability``), reading directly the few records
        with chosen videos that the listing did not contain."""
        client = contents_client()
        language = language or kollus_settings.DEFAULT_LANGUAGE
        counts: Counter[str] = Counter()
        unlisted = chosen_content_languages()
        videos = AvailabilityChanges()
        bar = CountBar(self.stdout, _("Records"), None, self.show_progress)
        page_number, seen = 1, 0
        try:
            while True:
                result = client.list_contents(language=language, page=page_number, limit=100)
                for content in result.items:
                    _record, created = ContentRecord.objects.update_or_create(
                        content_id=content.content_id, defaults=record_fields(content)
                    )
                    counts["created" if created else "updated"] += 1
                    seen += 1
                    if unlisted.pop(content.content_id, None) is not None:
                        videos += apply_content(content)
                bar.update(seen, result.pagination.total or seen)
                if not result.pagination.has_more_pages or not result.items:
                    break
                page_number += 1
                time.sleep(pause)
            # Only after a complete listing: a record missing from it is listed in another
            # language only, or gone, and only a direct read can tell which.
            videos += self._read_unlisted(client, unlisted, pause)
        except KeyboardInterrupt:
            bar.done()
            # The mirror is written record by record and a pull is idempotent: a plain re-run
            # goes on (from the first page: the listing has no stable cursor to resume from).
            raise interrupted(
                _(
                    "Interrupted after %(seen)d record(s). The records mirrored so far are "
                    "kept: run the same command again to mirror the rest."
                )
                % {"seen": seen}
            ) from None
        except KollusAPIError as error:
            bar.done()
            raise CommandError(
                _("Stopped after %(seen)d record(s): %(error)s") % {"seen": seen, "error": error}
            ) from error
        finally:
            client.close()
        bar.done()
        self.stdout.write(
            _("%(seen)d record(s): %(created)d new, %(updated)d refreshed.")
            % {"seen": seen, "created": counts["created"], "updated": counts["updated"]}
        )
        self.stdout.write(
            _(
                "Chosen videos: %(withdrawn)d withdrawn, %(restored)d playable again, "
                "%(rekeyed)d with a new media content key."
            )
            % {
                "withdrawn": videos.withdrawn,
                "restored": videos.restored,
                "rekeyed": videos.rekeyed,
            }
        )

    def _read_unlisted(
        self, client: Any, unlisted: dict[int, str], pause: float
    ) -> AvailabilityChanges:
        """Read each record with chosen videos that the listing lacked; a 404 withdraws them."""
        changes = AvailabilityChanges()
        for content_id, video_language in unlisted.items():
            time.sleep(pause)
            try:
                content = client.get_content(content_id, language=video_language or None)
            except NotFoundError:
                changes += withdraw_content(content_id)
            else:
                changes += apply_content(content)
        return changes
