"""``manage.py kollus_sweep``: queue the leased work that needs a job, or install the schedule.

kollus_sweep                     one sweep now: expired leases, due retries, everything waiting
kollus_sweep --install-schedule  create the every-minute django-q2 schedule (idempotent)
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from wagtail_kollus import sweep


class Command(BaseCommand):
    help = (
        "Queue page syncs and callback deliveries whose worker stopped, whose retry is due or "
        "whose job was lost; with --install-schedule, create the schedule that does it every "
        "minute."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--install-schedule",
            action="store_true",
            help="Create the every-minute django-q2 sweep schedule (idempotent) and remove the "
            "spent one-off retry schedules earlier versions left behind.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["install_schedule"]:
            schedule, created = sweep.ensure_schedule()
            verb = "Created" if created else "Kept"
            self.stdout.write(f"{verb} schedule {schedule.name!r}, every {schedule.minutes} minute(s).")
            removed = sweep.remove_stale_schedules()
            if removed:
                self.stdout.write(f"Removed {removed} schedule(s) earlier versions left behind.")
            return
        # By hand (after an outage, say): everything that waits, not only what looks lost.
        self.stdout.write(f"Sweep: {sweep.sweep(lost_after=None)}.")
