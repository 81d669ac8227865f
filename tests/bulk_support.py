"""What the bulk command tests share: the sync settings their sandbox needs, and running
``kollus_sync`` in this process."""

from __future__ import annotations

import io

from django.core.management import call_command

SYNC_SETTINGS = {
    "SYNC_DEFAULT_CATEGORY_IDS": [5],
    "SYNC_DEFAULT_FEATURED_IMAGE": "https://example.com/course.jpg",
    "READ_TIMEOUT": 5.0,
}


def run_sync(*args: str) -> tuple[str, str]:
    """``manage.py kollus_sync --no-progress *args``: its standard output and error."""
    out, err = io.StringIO(), io.StringIO()
    call_command("kollus_sync", "--no-progress", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()
