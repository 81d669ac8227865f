"""Exclusive slot claims for Django's file-based cache, which has no atomic ``add``.

``FileBasedCache.add`` is "``has_key``, then ``set``": two processes can both see the key
missing and both "add" it. The rate limiter needs exactly one winner per slot, so on that
backend it claims a slot by creating a marker file with ``O_CREAT | O_EXCL`` in the cache's own
directory: the operating system guarantees that only one ``open`` succeeds, across processes.

The markers end in ``.claim`` (Django only manages ``*.djcache`` files, so culling and
``cache.clear()`` leave them alone) and are swept here once they are older than any window
they could guard.
"""

from __future__ import annotations

import hashlib
import os
import time

MARKER_PREFIX = "wagtail-kollus-slot-"
MARKER_SUFFIX = ".claim"
MAX_AGE = 130.0  # seconds: longer than the per-minute window a marker can guard
SWEEP_INTERVAL = 60.0

_last_sweep: dict[str, float] = {}


def claim_file_slot(directory: str, key: str) -> bool:
    """True if this call created the marker for ``key`` (and so owns the slot)."""
    os.makedirs(directory, mode=0o700, exist_ok=True)
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:40]
    path = os.path.join(directory, f"{MARKER_PREFIX}{digest}{MARKER_SUFFIX}")
    try:
        handle = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return False
    os.close(handle)
    sweep_old_markers(directory)
    return True


def sweep_old_markers(directory: str, *, now: float | None = None, force: bool = False) -> int:
    """Delete markers older than ``MAX_AGE``; at most once a minute per process. Returns count."""
    now = time.time() if now is None else now
    if not force and now - _last_sweep.get(directory, 0.0) < SWEEP_INTERVAL:
        return 0
    _last_sweep[directory] = now
    removed = 0
    try:
        entries = list(os.scandir(directory))
    except FileNotFoundError:
        return 0
    for entry in entries:
        if not (entry.name.startswith(MARKER_PREFIX) and entry.name.endswith(MARKER_SUFFIX)):
            continue
        try:
            if now - entry.stat().st_mtime > MAX_AGE:
                os.unlink(entry.path)
                removed += 1
        except FileNotFoundError:  # another process swept it first
            continue
    return removed
