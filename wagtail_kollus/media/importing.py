"""Copy the Kollus library into the local mirror: every media the API lists, newest first.

Callbacks only report what changes from now on, so videos that were on Kollus before the site
was connected would never appear in the library. This reads the list in pages of 100 (one
API call each, within the client's shared rate limit) and writes each media through
:func:`.services.mirror_from_remote`, exactly as callbacks and refreshes do: running it twice
changes nothing, and a video deleted here stays deleted. ``make demo``'s ``seed_demo`` uses
it to fill the library from the sandbox.
"""

from __future__ import annotations

from typing import Any

from ..accounts import KollusAccount, kollus_client
from .services import mirror_from_remote

PAGE_SIZE = 100  # the most Kollus returns in one page


def import_library(
    *, limit: int | None = None, client: Any = None, account: KollusAccount | None = None
) -> int:
    """Mirror up to ``limit`` media (all when ``None``) of ``account`` (default: the settings'
    account), read with ``client`` (default: a client of the account); return how many rows
    were written."""
    account = account or KollusAccount.from_settings()
    client = client or kollus_client(account)
    written = 0
    page = 1
    while limit is None or written < limit:
        listing = client.list_media(page=page, per_page=PAGE_SIZE)
        for remote in listing.items:
            if limit is not None and written >= limit:
                break
            if remote.upload_file_key:
                mirror_from_remote(
                    remote.upload_file_key, remote, client=client, account=account
                )
                written += 1
        if not listing.items or not listing.pagination.has_more_pages:
            break
        page += 1
    return written
