"""``manage.py kollus_sweep``: queue the leased work that needs a job, or install the schedule.

kollus_sweep                     one sweep now: expired leases, due retries, everything waiting
kollus_sweep --install-schedule  create the every-minute django-q2 schedule (idempotent)
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from wagtail_kollus import sweep


class Command(BaseCommand):
    help = _(
        "Queue page syncs and callback deliveries whose worker stopped, whose retry is due or "
        "whose job was lost; with --install-schedule, create the schedule that does it every "
        "minute."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--install-schedule",
            action="store_true",
            help=_(
                "Create the every-minute django-q2 sweep schedule (idempotent) and remove the "
                "spent one-off retry schedules earlier versions left behind."
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["install_schedule"]:
            schedule, created = sweep.ensure_schedule()
            message = (
                ngettext(
                    "Created schedule %(name)s, every %(minutes)d minute.",
                    "Created schedule %(name)s, every %(minutes)d minutes.",
                    schedule.minutes,
                )
                if created
                else ngettext(
                    "Kept schedule %(name)s, every %(minutes)d minute.",
                    "Kept schedule %(name)s, every %(minutes)d minutes.",
                    schedule.minutes,
                )
            )
            self.stdout.write(message % {"name": repr(schedule.name), "minutes": schedule.minutes})
            removed = sweep.remove_stale_schedules()
            if removed:
                self.stdout.write(
                    ngettext(
                        "Removed %(count)d schedule earlier versions left behind.",
                        "Removed %(count)d schedules earlier versions left behind.",
                        removed,
                    )
                    % {"count": removed}
                )
            return
        # By hand (after an outage, say): everything that waits, not only what looks lost.
        self.stdout.write(sweep.run(lost_after=None).describe())
