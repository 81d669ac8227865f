"""``manage.py kollus_progress_purge``: delete learner progress older than the retention.

kollus_progress_purge                     purge now (PROGRESS_RETENTION_DAYS; None keeps all)
kollus_progress_purge --install-schedule  create the daily django-q2 schedule (idempotent)
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from wagtail_kollus.conf import kollus_settings
from wagtail_kollus.learners import privacy


class Command(BaseCommand):
    help = (
        "Delete learner progress not watched for PROGRESS_RETENTION_DAYS days; with "
        "--install-schedule, create the schedule that does it every day."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--install-schedule",
            action="store_true",
            help="Create the daily django-q2 purge schedule (idempotent).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["install_schedule"]:
            schedule, created = privacy.ensure_schedule()
            verb = "Created" if created else "Kept"
            self.stdout.write(f"{verb} schedule {schedule.name!r}, daily.")
            return
        days = kollus_settings.PROGRESS_RETENTION_DAYS
        if days is None:
            self.stdout.write("PROGRESS_RETENTION_DAYS is None: progress is kept, nothing purged.")
            return
        deleted = privacy.purge_expired_progress()
        self.stdout.write(f"Deleted {deleted} progress row(s) last watched over {days} days ago.")
