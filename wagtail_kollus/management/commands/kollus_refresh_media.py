"""``manage.py kollus_refresh_media``: re-read library videos from Kollus.

For lost callbacks (stuck uploads/transcodes) or after a console outage. Runs in this process
(the client's shared rate limiter keeps it within Kollus's 1 call/s), or queues the work for
the django-q2 cluster with ``--queue``.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from wagtail_kollus.accounts import KollusAccount
from wagtail_kollus.api.errors import KollusAPIError
from wagtail_kollus.media import jobs, services
from wagtail_kollus.media.filters import stuck_media
from wagtail_kollus.models import KollusMedia, MediaState


class Command(BaseCommand):
    help = "Refresh Kollus videos from the Kollus API (default: the stuck ones)."

    def add_arguments(self, parser) -> None:
        which = parser.add_mutually_exclusive_group()
        which.add_argument("--all", action="store_true", help="Every video that is not deleted.")
        which.add_argument("--ids", nargs="+", type=int, help="These video ids.")
        parser.add_argument("--queue", action="store_true", help="Queue for the django-q2 cluster.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["ids"]:
            rows = KollusMedia.objects.filter(pk__in=options["ids"])
        elif options["all"]:
            rows = KollusMedia.objects.exclude(state=MediaState.DELETED)
        else:
            rows = stuck_media()
        ids = list(rows.exclude(upload_file_key=None).values_list("pk", flat=True))
        counts: dict[str, int] = {}
        account = KollusAccount.from_settings()
        for pk in ids:
            if options["queue"]:
                jobs.enqueue_now("refresh_media", pk)
                result = "queued"
            else:
                try:
                    result = services.refresh_media(pk, account=account)
                except KollusAPIError as error:
                    self.stderr.write(f"#{pk}: {error.describe()}")
                    result = "failed"
            counts[result] = counts.get(result, 0) + 1
            if options["verbosity"] > 1:
                self.stdout.write(f"#{pk}: {result}")
        summary = ", ".join(f"{n} {what}" for what, n in sorted(counts.items())) or "nothing to do"
        self.stdout.write(self.style.SUCCESS(f"{len(ids)} video(s): {summary}."))
