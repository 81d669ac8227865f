"""``manage.py kollus_upload PATH…``: upload local video files to Kollus.

Streams every file in constant memory with a progress bar, skips files whose content is
already in the library (sha256), and prints a summary. Kollus's callbacks then move each
video to "ready" as for uploads from the admin.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from wagtail_kollus.accounts import KollusAccount, kollus_client
from wagtail_kollus.api.errors import KollusAPIError
from wagtail_kollus.management.interrupts import interrupted
from wagtail_kollus.media.bulk_upload import (
    UploadOutcome,
    UploadSummary,
    expand_paths,
    upload_one,
)
from wagtail_kollus.media.explain import explain


class ProgressBar:
    """``[#####     ]  52 %  12.3 MB/s`` on one line, redrawn at most 10 times a second."""

    width = 30

    def __init__(self, stream: Any, label: str) -> None:
        self.stream = stream
        self.label = label
        self.started = time.monotonic()
        self.last_draw = 0.0

    def __call__(self, sent: int, total: int) -> None:
        now = time.monotonic()
        if sent < total and now - self.last_draw < 0.1:
            return
        self.last_draw = now
        fraction = sent / total if total else 1.0
        filled = int(self.width * fraction)
        speed = sent / max(now - self.started, 1e-6) / 1e6
        self.stream.write(
            f"\r{self.label} [{'#' * filled}{' ' * (self.width - filled)}] "
            f"{fraction * 100:5.1f} %  {speed:6.1f} MB/s"
        )
        self.stream.flush()

    def done(self) -> None:
        self.stream.write("\n")


class Command(BaseCommand):
    help = _("Upload video files to Kollus (skips files already uploaded, by sha256).")

    def add_arguments(self, parser) -> None:
        parser.add_argument("paths", nargs="+", help=_("Files, or directories to walk."))
        parser.add_argument("--title", help=_("Title (one file only; default: the file name)."))
        parser.add_argument("--category", dest="category_key", help=_("Kollus category key."))
        flags = parser.add_mutually_exclusive_group()
        flags.add_argument(
            "--encrypt",
            dest="encrypt",
            action="store_true",
            default=None,
            help=_("Ask Kollus to encrypt the videos (default: UPLOAD_ENCRYPTION)."),
        )
        flags.add_argument(
            "--no-encrypt",
            dest="encrypt",
            action="store_false",
            help=_("Ask Kollus not to encrypt the videos (default: UPLOAD_ENCRYPTION)."),
        )
        parser.add_argument(
            "--audio", action="store_true", default=None, help=_("Audio-only upload.")
        )
        parser.add_argument("--no-progress", action="store_true", help=_("No progress bar."))

    def handle(self, *args: Any, **options: Any) -> None:
        paths = list(expand_paths(options["paths"]))
        if options["title"] and len(paths) != 1:
            raise CommandError(_("--title needs exactly one file."))
        account = KollusAccount.from_settings()
        try:
            client = kollus_client(account)
        except KollusAPIError as error:
            raise CommandError(explain(error)) from error
        summary = UploadSummary()
        show_progress = not options["no_progress"] and options["verbosity"] > 0
        for number, path in enumerate(paths, start=1):
            # Which file of how many: a re-run after an interruption skips the files already
            # in the library (by checksum), so the count says how far the last one got.
            label = f"[{number}/{len(paths)}] {path.name}"
            bar = ProgressBar(self.stdout, label) if show_progress else None
            try:
                outcome = upload_one(
                    path,
                    client=client,
                    account=account,
                    title=options["title"],
                    category_key=options["category_key"],
                    is_encryption_upload=options["encrypt"],
                    is_audio_upload=options["audio"],
                    progress=bar,
                )
            except KeyboardInterrupt:
                if bar is not None:
                    bar.done()
                raise interrupted(
                    _(
                        "Interrupted at file %(number)d of %(total)d (%(name)s). Run the same "
                        "command again: the files already uploaded are skipped."
                    )
                    % {"number": number, "total": len(paths), "name": path.name}
                ) from None
            if bar is not None and outcome.status == "uploaded":
                bar.done()
            summary.outcomes.append(outcome)
            self.report(outcome)
        self.stdout.write(
            self.style.SUCCESS(
                _("%(uploaded)d uploaded, %(skipped)d skipped, %(failed)d failed.")
                % {
                    "uploaded": summary.count("uploaded"),
                    "skipped": summary.count("skipped"),
                    "failed": summary.count("failed"),
                }
            )
        )
        if summary.count("failed"):
            sys.exit(1)

    def report(self, outcome: UploadOutcome) -> None:
        if outcome.status == "uploaded":
            self.stdout.write(
                _("uploaded  %(path)s  → #%(id)d (%(key)s)")
                % {
                    "path": outcome.path,
                    "id": outcome.media.pk,
                    "key": outcome.media.upload_file_key,
                }
            )
        elif outcome.status == "skipped":
            # The existing row says which video has these bytes; outcome.message is the same
            # in English only.
            self.stdout.write(
                _("skipped   %(path)s  (already uploaded as #%(id)d)")
                % {"path": outcome.path, "id": outcome.media.pk}
            )
        else:
            # The reason stays as bulk_upload gives it (English; the library shows it in each
            # editor's language).
            self.stderr.write(
                self.style.ERROR(
                    _("failed    %(path)s  (%(reason)s)")
                    % {"path": outcome.path, "reason": outcome.message}
                )
            )
