"""``manage.py kollus_stats``: the statistics history's maintenance.

kollus_stats --install-schedule        create the daily django-q2 snapshot schedule
kollus_stats --backfill FROM TO        record every day FROM..TO that Kollus still answers
kollus_stats --record-recent           what the schedule runs, now
"""

from __future__ import annotations

from datetime import date

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from wagtail_kollus.api.errors import KollusAPIError
from wagtail_kollus.management.interrupts import interrupted
from wagtail_kollus.stats import snapshots, tasks
from wagtail_kollus.stats.failures import for_operators
from wagtail_kollus.stats.periods import DateRange
from wagtail_kollus.stats.snapshots import RecordResult


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise CommandError(
            _("%(value)s is not a date (YYYY-MM-DD).") % {"value": repr(value)}
        ) from error


def _describe(result: RecordResult) -> str:
    """``RecordResult.summary`` in the site's language (the summary itself stays English: the
    log has it)."""
    parts = [
        ngettext("recorded %(count)d day", "recorded %(count)d days", len(result.recorded_days))
        % {"count": len(result.recorded_days)}
    ]
    if result.final_days:
        parts.append(
            ngettext(
                "kept %(count)d day recorded final before",
                "kept %(count)d days recorded final before",
                len(result.final_days),
            )
            % {"count": len(result.final_days)}
        )
    if result.skipped_days:
        parts.append(
            ngettext(
                "skipped %(count)d day outside Kollus's one-year window (%(first)s – %(last)s)",
                "skipped %(count)d days outside Kollus's one-year window (%(first)s – %(last)s)",
                len(result.skipped_days),
            )
            % {
                "count": len(result.skipped_days),
                "first": result.skipped_days[0],
                "last": result.skipped_days[-1],
            }
        )
    return "; ".join(parts)


class Command(BaseCommand):
    help = _("Record Kollus viewing statistics snapshots and install their daily schedule.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--install-schedule",
            action="store_true",
            help=_("Create the daily django-q2 schedule that records snapshots (idempotent)."),
        )
        parser.add_argument(
            "--backfill",
            nargs=2,
            metavar=("FROM", "TO"),
            help=_(
                "Record every day FROM..TO (YYYY-MM-DD, inclusive) within Kollus's one-year "
                "window: one summary call per 92 days and one ranking call per day, paced by the "
                "shared rate limiter (60 calls/min). Recorded days are replaced."
            ),
        )
        parser.add_argument(
            "--resume",
            action="store_true",
            help=_(
                "With --backfill: keep the days already recorded final (an interrupted "
                "backfill goes on where it stopped)."
            ),
        )
        parser.add_argument(
            "--record-recent",
            action="store_true",
            help=_("Record the last STATS_RECORD_DAYS days now (what the schedule runs)."),
        )

    def handle(self, *args, **options) -> None:
        if not (options["install_schedule"] or options["backfill"] or options["record_recent"]):
            raise CommandError(_("Give --install-schedule, --backfill FROM TO or --record-recent."))
        if options["install_schedule"]:
            schedule, created = tasks.ensure_schedule()
            message = (
                _("Created schedule %(name)s, next run %(next_run)s.")
                if created
                else _("Kept schedule %(name)s, next run %(next_run)s.")
            )
            self.stdout.write(
                message % {"name": repr(schedule.name), "next_run": schedule.next_run}
            )
        try:
            if options["backfill"]:
                start, end = (_date(v) for v in options["backfill"])
                if end < start:
                    raise CommandError(_("TO is before FROM."))
                verbosity = options["verbosity"]
                total = (end - start).days + 1
                recorded = 0

                def progress(day: date) -> None:
                    nonlocal recorded
                    recorded += 1
                    if verbosity > 1:
                        self.stdout.write(f"  {day}")
                    elif verbosity > 0 and (recorded % 10 == 0 or day == end):
                        self.stdout.write(
                            ngettext(
                                "  %(recorded)d/%(total)d day, last %(day)s",
                                "  %(recorded)d/%(total)d days, last %(day)s",
                                total,
                            )
                            % {"recorded": recorded, "total": total, "day": day}
                        )

                try:
                    result = snapshots.record_days(
                        DateRange(start, end), progress=progress, keep_final=options["resume"]
                    )
                except KollusAPIError as error:
                    raise CommandError(
                        ngettext(
                            "%(reason)s %(count)d day was recorded before; it stays recorded: "
                            "run the same command with --resume to go on.",
                            "%(reason)s %(count)d days were recorded before; they stay "
                            "recorded: run the same command with --resume to go on.",
                            recorded,
                        )
                        % {"reason": for_operators(error), "count": recorded}
                    ) from error
                except KeyboardInterrupt:
                    raise interrupted(
                        _(
                            "Interrupted after %(recorded)d of %(total)d day(s); the days "
                            "recorded stay recorded: run the same command with --resume to go on."
                        )
                        % {"recorded": recorded, "total": total}
                    ) from None
                self.stdout.write(_("Backfill: %(summary)s.") % {"summary": _describe(result)})
            if options["record_recent"]:
                self.stdout.write(
                    _("Recent days: %(summary)s.")
                    % {"summary": _describe(snapshots.record_recent_days())}
                )
        except KollusAPIError as error:
            raise CommandError(for_operators(error)) from error
