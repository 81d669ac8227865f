"""CSV exports of the plugin's admin reports, in the language of the editor who asked.

Wagtail streams a CSV export (``SpreadsheetExportMixin.stream_csv`` in a
``StreamingHttpResponse``): its lines are written after the view has returned, once the
admin has deactivated the editor's language, so lazy headings and translated values came out
in the site's ``LANGUAGE_CODE`` while the XLSX, written inside the view, was in the editor's.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from django.utils import translation


def in_language(language: str | None, lines: Iterable[str]) -> Iterator[str]:
    """``lines``, each produced with ``language`` active, and only while it is produced: the
    server thread's own language is back between two chunks sent."""
    lines = iter(lines)
    while True:
        with translation.override(language):
            try:
                line = next(lines)
            except StopIteration:
                return
        yield line


class CSVInRequestLanguageMixin:
    """For a ``SpreadsheetExportMixin`` view (Wagtail's ``ReportView``): its streamed CSV in
    the language active when the view answered (the editor's)."""

    def stream_csv(self, queryset: Any) -> Iterator[str]:
        # Called inside the view (``write_csv_response``), so this is the editor's language.
        return in_language(translation.get_language(), super().stream_csv(queryset))
