"""``manage.py kollus_refresh_media``: re-read library videos from Kollus.

For lost callbacks (stuck uploads/transcodes) or after a console outage. Runs in this process
(the client's shared rate limiter keeps it within Kollus's 1 call/s), or queues the work for
the django-q2 cluster with ``--queue``.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext, pgettext_lazy

from wagtail_kollus.accounts import KollusAccount
from wagtail_kollus.api.errors import KollusAPIError
from wagtail_kollus.management.interrupts import CountedCommit, interrupted
from wagtail_kollus.management.options import moment
from wagtail_kollus.media import jobs, services
from wagtail_kollus.media.filters import stuck_media
from wagtail_kollus.models import KollusMedia, MediaState
from wagtail_kollus.queue import QUEUE_BATCH

# The summary's words, translated as it is printed; the counters keep the words
# ``services.refresh_media()`` returns (and "queued", "failed" of this command).
OUTCOME_LABELS = {
    "queued": pgettext_lazy("kollus_refresh_media summary", "queued"),
    "refreshed": pgettext_lazy("kollus_refresh_media summary", "refreshed"),
    "abandoned": pgettext_lazy("kollus_refresh_media summary", "abandoned"),
    "not found": pgettext_lazy("kollus_refresh_media summary", "not found"),
    "nothing to refresh": pgettext_lazy("kollus_refresh_media summary", "nothing to refresh"),
    "failed": pgettext_lazy("kollus_refresh_media summary", "failed"),
}


def _label(outcome: str) -> str:
    return str(OUTCOME_LABELS.get(outcome, outcome))


def _summary(counts: dict[str, int]) -> str:
    return ", ".join(
        # Translators: one item of kollus_refresh_media's summary, e.g. "3 refreshed".
        pgettext("kollus_refresh_media summary", "%(count)d %(outcome)s")
        % {"count": n, "outcome": _label(what)}
        for what, n in sorted(counts.items())
    ) or pgettext("kollus_refresh_media summary", "nothing to do")


class Command(BaseCommand):
    help = _("Refresh Kollus videos from the Kollus API (default: the stuck ones).")

    def add_arguments(self, parser) -> None:
        which = parser.add_mutually_exclusive_group()
        which.add_argument("--all", action="store_true", help=_("Every video that is not deleted."))
        which.add_argument("--ids", nargs="+", type=int, help=_("These video ids."))
        parser.add_argument(
            "--queue", action="store_true", help=_("Queue for the django-q2 cluster.")
        )
        parser.add_argument(
            "--resume",
            type=moment,
            metavar="WHEN",
            help=_(
                "Skip videos refreshed since WHEN (ISO date and time): what an interrupted "
                "run had done. The command prints the value to give."
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["ids"]:
            rows = KollusMedia.objects.filter(pk__in=options["ids"])
        elif options["all"]:
            rows = KollusMedia.objects.exclude(state=MediaState.DELETED)
        else:
            rows = stuck_media()
        if options["resume"] is not None:
            rows = rows.exclude(last_refreshed_at__gte=options["resume"])
        # The ids first, whole: nothing below runs under an open cursor (queuing through
        # django-q2's ORM broker closes the connection; refreshes write).
        ids = list(rows.exclude(upload_file_key=None).order_by("pk").values_list("pk", flat=True))
        started = timezone.now()
        counts: dict[str, int] = {}
        verbosity = options["verbosity"]
        if options["queue"]:
            commit = CountedCommit()  # what Ctrl-C reports is what was committed
            try:
                for start in range(0, len(ids), QUEUE_BATCH):
                    batch = [(pk,) for pk in ids[start : start + QUEUE_BATCH]]
                    try:
                        with transaction.atomic():  # one statement per batch on the ORM broker
                            jobs.enqueue_many("refresh_media", batch)
                            commit.hold()
                        counts["queued"] = counts.get("queued", 0) + len(batch)
                    finally:
                        commit.release()
                    self._progress(verbosity, counts["queued"], len(ids))
            except KeyboardInterrupt:
                raise interrupted(
                    _(
                        "Interrupted after queuing %(done)d of %(total)d video(s). Run the same "
                        "command again to queue them all (a video queued twice is read twice)."
                    )
                    % {"done": counts.get("queued", 0), "total": len(ids)}
                ) from None
        else:
            if verbosity > 0 and len(ids) > 1:
                self.stdout.write(
                    ngettext(
                        "%(count)d video, one Kollus call each within the shared rate limit. "
                        "If this stops, go on with: --resume %(started)s",
                        "%(count)d videos, one Kollus call each within the shared rate limit. "
                        "If this stops, go on with: --resume %(started)s",
                        len(ids),
                    )
                    % {"count": len(ids), "started": started.isoformat()}
                )
            try:
                self._refresh(ids, counts, verbosity)
            except KeyboardInterrupt:
                raise interrupted(
                    _(
                        "Interrupted after %(done)d of %(total)d video(s). Go on with: "
                        "--resume %(started)s"
                    )
                    % {
                        "done": sum(counts.values()),
                        "total": len(ids),
                        "started": started.isoformat(),
                    }
                ) from None
        self.stdout.write(
            self.style.SUCCESS(
                _("%(count)d video(s): %(summary)s.")
                % {"count": len(ids), "summary": _summary(counts)}
            )
        )

    def _refresh(self, ids: list[int], counts: dict[str, int], verbosity: int) -> None:
        account = KollusAccount.from_settings()
        for done, pk in enumerate(ids, start=1):
            try:
                result = services.refresh_media(pk, account=account)
            except KollusAPIError as error:
                self.stderr.write(f"#{pk}: {error.describe()}")
                result = "failed"
            counts[result] = counts.get(result, 0) + 1
            if verbosity > 1:
                self.stdout.write(f"#{pk}: {_label(result)}")
            else:
                self._progress(verbosity, done, len(ids))

    def _progress(self, verbosity: int, done: int, total: int) -> None:
        if (
            verbosity > 0
            and total > PROGRESS_EVERY
            and (done % PROGRESS_EVERY == 0 or done == total)
        ):
            self.stdout.write(f"  {done}/{total}")


PROGRESS_EVERY = 100  # videos between two progress lines (one a second within Kollus's limit)
