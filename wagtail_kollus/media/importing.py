"""Copy the Kollus library into the local mirror: every media the API lists, newest first.

Callbacks only report what changes from now on, so videos that were on Kollus before the site
was connected would never appear in the library. This reads the list in pages of 100 (one
API call each, within the client's shared rate limit) and writes each media through
:func:`.tasks.mirror_from_remote`, exactly as callbacks and refreshes do: running it twice
changes nothing, and a video deleted here stays deleted. ``make demo``'s ``seed_demo`` uses
it to fill the library from the sandbox.
"""

from __future__ import annotations

from typing import Any

from .tasks import kollus_client, mirror_from_remote

PAGE_SIZE = 100  # the most Kollus returns in one page


def import_library(*, limit: int | None = None, client: Any = None) -> int:
    """Mirror up to ``limit`` media (all when ``None``); return how many rows were written."""
    client = client or kollus_client()
    written = 0
    page = 1
    while limit is None or written < limit:
        listing = client.list_media(page=page, per_page=PAGE_SIZE)
        for remote in listing.items:
            if limit is not None and written >= limit:
                break
            if remote.upload_file_key:
                mirror_from_remote(remote.upload_file_key, remote, client=client)
                written += 1
        if not listing.items or not listing.pagination.has_more_pages:
            break
        page += 1
    return written
