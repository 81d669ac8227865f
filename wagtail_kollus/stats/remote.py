"""Kollus statistics calls, cached, with the last good answer kept for outages.

Every remote call of the statistics feature goes through :func:`fetch`: Django's cache holds
each answer for ``STATS_CACHE_TIMEOUT`` (Kollus caches 5 minutes anyway, so asking again sooner
only spends the 1 call/s budget), and a second copy for ``STATS_LAST_GOOD_TIMEOUT`` that is
served, marked stale, when Kollus fails. After a failure the feature pauses remote calls for
``STATS_OUTAGE_PAUSE`` seconds so that every page load during an outage is not a slow one.

A failure keeps its cause, the api layer's exception (``api.errors``): during the pause a page
load is told the same cause, so a refused access token (401) is not reported as an outage.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from django.core.cache import caches

from ..accounts import KollusAccount, kollus_client
from ..api.errors import AuthenticationError, KollusAPIError, UnavailableError
from ..api.vod import KollusClient
from ..conf import kollus_settings

logger = logging.getLogger(__name__)

KEY_PREFIX = "wagtail_kollus:stats"
OUTAGE_KEY = f"{KEY_PREFIX}:outage"


class StatisticsUnavailable(Exception):
    """Kollus failed and no earlier answer is kept. ``error`` is why (redacted, as every
    ``KollusAPIError``), also while remote calls are paused after that failure."""

    def __init__(self, kind: str, error: KollusAPIError | None = None) -> None:
        super().__init__(kind)
        self.kind = kind
        self.error = error


@dataclass(frozen=True, slots=True)
class Fetched:
    value: Any
    fetched_at: datetime
    stale: bool  # True: Kollus failed, this is the last good answer
    error: KollusAPIError | None = None  # when stale: why Kollus failed


def _cache():
    return caches[kollus_settings.CACHE_ALIAS]


def _key(kind: str, start: date, end: date) -> str:
    return f"{KEY_PREFIX}:v{kollus_settings.CACHE_VERSION}:{kind}:{start:%Y%m%d}:{end:%Y%m%d}"


def make_client(account: KollusAccount | None = None) -> KollusClient:
    """A Kollus client for admin page loads: few retries, an editor is waiting."""
    return kollus_client(
        account,
        max_retries=kollus_settings.STATS_REQUEST_RETRIES,
        # When the schedule or a backfill is using the account's calls, show the last good
        # figures rather than keep the editor waiting.
        rate_limit_max_wait=kollus_settings.STATS_REQUEST_MAX_WAIT,
    )


def fetch(kind: str, start: date, end: date, call: Callable[[], Any]) -> Fetched:
    """``call()``'s answer for (kind, start, end): cached, else remote, else last good.

    ``call`` must return plain, picklable data (it is cached as is).
    """
    cache = _cache()
    key = _key(kind, start, end)
    cached = cache.get(key)
    if cached is not None:
        return Fetched(cached[0], cached[1], stale=False)
    error = current_failure()
    if error is None:
        try:
            value = call()
        except KollusAPIError as failure:
            error = failure
            log_failure(kind, error)
            # The exception itself is kept (it pickles with its status and redacted message):
            # while paused, the screens say why, not just that Kollus "did not answer".
            cache.set(OUTAGE_KEY, error, kollus_settings.STATS_OUTAGE_PAUSE)
        else:
            now = datetime.now(UTC)
            cache.set(key, (value, now), kollus_settings.STATS_CACHE_TIMEOUT)
            cache.set(f"{key}:at", now, kollus_settings.STATS_CACHE_TIMEOUT)
            cache.set(f"{key}:last-good", (value, now), kollus_settings.STATS_LAST_GOOD_TIMEOUT)
            return Fetched(value, now, stale=False)
    last_good = cache.get(f"{key}:last-good")
    if last_good is not None:
        return Fetched(last_good[0], last_good[1], stale=True, error=error)
    raise StatisticsUnavailable(kind, error)


def current_failure() -> KollusAPIError | None:
    """The failure that paused remote calls, while the pause lasts."""
    failure = _cache().get(OUTAGE_KEY)
    if failure is None or isinstance(failure, KollusAPIError):
        return failure
    # A pause stored by an older version (True): its cause is unknown, told as an outage as
    # it was then.
    return UnavailableError()


def log_failure(kind: str, error: KollusAPIError) -> None:
    """One log line per failed statistics call: a refused token is an error an operator must
    fix, not a warning that passes. ``describe()`` is redacted: never a token in the log."""
    if isinstance(error, AuthenticationError):
        logger.error(
            "Kollus refused the statistics request (%s): check the KOLLUS_ACCESS_TOKEN "
            "setting. %s",
            kind,
            error.describe(),
        )
    else:
        logger.warning("Kollus statistics unavailable (%s): %s", kind, error.describe())


def fresh_since(kind: str, start: date, end: date) -> datetime | None:
    """When the cached answer for (kind, start, end) was fetched, if one is cached (not the
    last-good copy), without reading the answer itself: a ranking holds a row per video,
    and what was built from it is found by this time alone (``stats.rollups``)."""
    cache = _cache()
    key = _key(kind, start, end)
    fetched_at = cache.get(f"{key}:at")
    if fetched_at is None or not cache.has_key(key):
        return None
    return fetched_at


def clear_outage() -> None:
    _cache().delete(OUTAGE_KEY)
