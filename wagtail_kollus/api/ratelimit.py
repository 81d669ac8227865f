"""Limits shared by every process: Kollus's per-account rate limit (1 call/s, 60 calls/min)
and the contents API's configurable one (``CONTENTS_RATE_LIMIT_PER_*``) here, and the player token endpoint's per-client limits (``wagtail_kollus.playback.limits``),
both counted by :func:`claim_window_slot`.

A site runs several web workers and a django-q2 cluster; each has its own memory, so a
per-process limiter would let N processes make N calls a second. The count therefore lives in
Django's cache (the alias in ``WAGTAIL_KOLLUS["RATE_LIMIT_CACHE"]``).

How a call claims a slot: time is cut into fixed windows (one second, one minute, wall clock).
A window of capacity N has N slot keys; a caller owns a slot when ``cache.add(slot_key)``
succeeds. ``add`` is "set if absent": atomic on Redis and memcached (``SET NX``/``add``),
guarded by a lock in locmem, and a unique-key INSERT on the database cache. ``incr`` is *not*
atomic on the file-based or database caches, which is why slots are claimed with ``add``
rather than counted with ``incr``. A per-minute "next free slot" hint is kept with ``set``; a
lost update there costs an extra ``add``, never an extra call.

The file-based cache's ``add`` is ``has_key`` then ``set``: two processes waking at the same
window boundary could both "win". On that backend slots are claimed by creating a marker file
with ``O_EXCL`` in the cache's directory instead (``file_slots.py``), which the operating system
makes exclusive across processes.

Fixed windows allow two calls close together across a boundary (at 0.99 s and 1.00 s); over
any span of T seconds at most T + 1 calls pass. Keys carry a hash of the account key, never the
raw access token.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable

from django.core.cache import caches
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.filebased import FileBasedCache

from .errors import RateLimitedError
from .file_slots import claim_file_slot

KEY_PREFIX = "wagtail_kollus:ratelimit"


def account_hash(secret: str) -> str:
    """A short stable id for an account key, safe to put in cache keys and logs."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()[:16]


class CacheRateLimiter:
    """Blocks until a per-second and a per-minute slot are free for ``key``'s account.

    ``key`` is the account's secret (hashed here) or any other string naming the account;
    ``service`` names the API (``"kollus"``, ``"contents"``) in keys and errors, so two APIs
    never share a count even if given the same key.
    ``clock`` must be wall time shared by all processes (``time.time``); ``sleep`` is injectable
    so tests can drive a fake clock.
    """

    def __init__(
        self,
        key: str,
        per_second: int | None = 1,
        per_minute: int | None = 60,
        cache_alias: str = "default",
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        service: str = "kollus",
    ) -> None:
        self.key_hash = account_hash(key)
        self.service = service
        self.per_second = int(per_second or 0)
        self.per_minute = int(per_minute or 0)
        self.cache_alias = cache_alias
        self.clock = clock
        self.sleep = sleep
        # Kollus's keys keep the name they always had (a rolling deploy shares them).
        scope = self.key_hash if service == "kollus" else f"{service}:{self.key_hash}"
        self._prefix = f"{KEY_PREFIX}:{scope}"
        #: The wall-clock second whose slot the last ``acquire`` claimed (for tests/metrics).
        self.last_window: int | None = None

    def __repr__(self) -> str:
        return (
            f"<CacheRateLimiter {self.service} account={self.key_hash} {self.per_second}/s "
            f"{self.per_minute}/min cache={self.cache_alias!r}>"
        )

    @property
    def cache(self):
        return caches[self.cache_alias]

    def acquire(self, max_wait: float | None = None) -> float:
        """Wait for a free slot and claim it; return the seconds waited.

        Raises :class:`RateLimitedError` (with ``retry_after``) instead of sleeping when the
        wait would exceed ``max_wait``. ``None`` waits as long as needed.
        """
        waited = 0.0
        while True:
            now = self.clock()
            delay = self._try_claim(now)
            if delay <= 0:
                return waited
            if max_wait is not None and waited + delay > max_wait:
                # Literal sentences: docs/troubleshooting.md quotes them.
                if self.service == "kollus":
                    message = (
                        "Kollus rate limit reached (shared across processes); "
                        f"the next slot is in {delay:.2f} s."
                    )
                else:
                    message = (
                        f"The {self.service} API's rate limit reached (shared across "
                        f"processes); the next slot is in {delay:.2f} s."
                    )
                raise RateLimitedError(
                    message,
                    service=self.service,
                    retry_after=delay,
                )
            self.sleep(delay)
            waited += delay

    def _try_claim(self, now: float) -> float:
        """Claim a slot at ``now``; 0 on success, else seconds until the next window."""
        second = math.floor(now)
        if self.per_second and not self._claim_second(second):
            return max(second + 1 - now, 0.001)
        self.last_window = second
        if self.per_minute:
            minute = second // 60
            if not self._claim_minute(minute):
                # The per-second slot just claimed is simply wasted: it only makes us stricter.
                return max((minute + 1) * 60 - now, 0.001)
        return 0.0

    def _claim_second(self, second: int) -> bool:
        cache = self.cache
        return any(
            claim_key(cache, f"{self._prefix}:s:{second}:{slot}", timeout=5)
            for slot in range(self.per_second)
        )

    def _claim_minute(self, minute: int) -> bool:
        return claim_window_slot(
            self.cache, f"{self._prefix}:m:{minute}", self.per_minute, timeout=125
        )


def claim_key(cache: BaseCache, key: str, timeout: int) -> bool:
    """Own ``key`` if nobody does: ``cache.add``, or an exclusive marker file on the
    file-based cache, whose ``add`` is not atomic (module doc)."""
    if isinstance(cache, FileBasedCache):
        return claim_file_slot(cache._dir, key)
    return cache.add(key, 1, timeout=timeout)


def claim_window_slot(cache: BaseCache, window_key: str, capacity: int, timeout: int) -> bool:
    """Claim one of the ``capacity`` slots of a window (``<window_key>:<n>``); False if all
    are taken. This is how every limit of the plugin counts across processes (module doc).

    A "next free slot" hint, kept with ``set``, spares most callers a walk through the taken
    slots; a hint lost to a concurrent ``set`` only costs extra ``add`` calls, never an extra
    slot. Once the hint reaches ``capacity`` a caller is refused with one ``get``.
    """
    hint_key = f"{window_key}:next"
    start = cache.get(hint_key) or 0
    for slot in range(min(int(start), capacity), capacity):
        if claim_key(cache, f"{window_key}:{slot}", timeout):
            cache.set(hint_key, slot + 1, timeout=timeout)
            return True
    return False
