"""``manage.py kollus_import``: mirror the videos Kollus already holds into the library.

manage.py kollus_import                    # import, or resume the import that stopped
manage.py kollus_import --queue            # let the django-q2 cluster do it
manage.py kollus_import --status           # where the latest import got to
manage.py kollus_import --resync-stale     # re-read rows not refreshed for MEDIA_RESYNC_HOURS
manage.py kollus_import --install-schedule # the scheduled resync of stale rows (each deploy)

It reads Kollus's media list 100 media a call, within the account's shared rate limit, and
records after every page where it got to: after a failure or ``Ctrl-C`` the same command goes
on from that page (``media.importing``).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from wagtail_kollus.management.commands.kollus_sync import CountBar
from wagtail_kollus.management.interrupts import interrupted
from wagtail_kollus.media import importing, jobs, stale
from wagtail_kollus.models import ImportStatus, KollusImportRun


class Command(BaseCommand):
    help = _("Import the videos Kollus already holds into the library (resumable).")

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--queue", action="store_true", help=_("Queue the import for the django-q2 cluster.")
        )
        parser.add_argument(
            "--status", action="store_true", help=_("Show where the latest import got to.")
        )
        parser.add_argument(
            "--resync-stale",
            action="store_true",
            help=_("Re-read the videos not refreshed for MEDIA_RESYNC_HOURS."),
        )
        parser.add_argument(
            "--install-schedule",
            action="store_true",
            help=_("Create the scheduled resync of stale videos (idempotent)."),
        )
        parser.add_argument("--no-progress", action="store_true", help=_("No progress bar."))

    def handle(self, *args: Any, **options: Any) -> None:
        if options["install_schedule"]:
            schedule, created = stale.ensure_schedule()
            message = _("Created schedule %(name)s.") if created else _("Schedule %(name)s exists.")
            self.stdout.write(message % {"name": schedule.name})
            return
        if options["resync_stale"]:
            self.stdout.write(stale.resync_stale_media())
            return
        if options["status"]:
            run = importing.latest_run()
            self.stdout.write(self.describe(run) if run else _("No import has run yet."))
            return
        run, created = importing.start_or_resume()
        if importing.is_active(run):
            self.running_elsewhere(run)
        if not created:
            self.stdout.write(
                _("Resuming import #%(id)d at page %(page)d.")
                % {"id": run.pk, "page": run.next_page}
            )
        if options["queue"]:
            jobs.enqueue_now("import_library", run.pk)
            self.stdout.write(_("Import #%(id)d queued for the cluster.") % {"id": run.pk})
            return
        show = not options["no_progress"] and options["verbosity"] > 0
        bar = CountBar(self.stdout, _("Media"), run.total, show)
        try:
            run = importing.run_import(run.pk, progress=lambda r: bar.update(r.seen, r.total))
        except KeyboardInterrupt:
            bar.done()
            raise interrupted(
                _("Interrupted. Run the same command to go on from page %(page)d.")
                % {"page": KollusImportRun.objects.get(pk=run.pk).next_page}
            ) from None
        bar.done()
        if run.status == ImportStatus.RUNNING and run.claimed_by:
            self.running_elsewhere(run)
        if run.status == ImportStatus.FAILED:
            raise CommandError(
                _("%(error)s Nothing is lost: run the same command to go on from page %(page)d.")
                % {"error": run.error_display, "page": run.next_page}
            )
        self.stdout.write(self.describe(run))

    def running_elsewhere(self, run: KollusImportRun) -> None:
        raise CommandError(
            _("Import #%(id)d is running elsewhere (%(worker)s).")
            % {"id": run.pk, "worker": run.claimed_by}
        )

    def describe(self, run: KollusImportRun) -> str:
        return _(
            "Import #%(id)d: %(status)s; %(seen)d media read, %(created)d new, "
            "%(known)d already in the library, %(calls)d Kollus API call(s)."
        ) % {
            "id": run.pk,
            "status": run.get_status_display(),
            "seen": run.seen,
            "created": run.created_count,
            "known": run.updated_count,
            "calls": run.api_calls,
        }
