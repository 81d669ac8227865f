"""Helpers of the statistics tests: the sandbox's own figures, computed locally. (Stored
snapshots are built by ``tests.factories.store_snapshot``.)"""

from __future__ import annotations

from datetime import date

import pytest
from django.core.cache import cache

from wagtail_kollus.sandbox import statistics as sandbox_stats
from wagtail_kollus.stats.periods import DateRange, utc_today

FAST_LIMITS = {"KOLLUS_RATE_LIMIT_PER_SECOND": 1000, "KOLLUS_RATE_LIMIT_PER_MINUTE": 100000}


@pytest.fixture(name="kollus")
def stats_sandbox(sandbox, settings):
    """``kollus`` in the statistics modules that import it (instead of conftest's): Kollus's limits lifted, and an
    empty cache before and after, since the statistics keep Kollus's answers and outage
    pauses there."""
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, **FAST_LIMITS}
    cache.clear()
    yield sandbox
    cache.clear()


def completed_keys(sandbox) -> list[str]:
    with sandbox.state.lock:
        return sorted(k for k, m in sandbox.state.media.items() if m["stage"] == "completed")


def expected_views(sandbox, period: DateRange) -> dict[str, int]:
    out = {}
    for key in completed_keys(sandbox):
        views = sum(sandbox_stats.daily_views(key, day) for day in period)
        if views:
            out[key] = views
    return out


def expected_visitors(day: date) -> int:
    return int(sandbox_stats.daily_summary(day)["unique_visitors"])


def today() -> date:
    return utc_today()
