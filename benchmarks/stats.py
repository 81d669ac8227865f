"""Benchmark group ``stats``: remote calls and speed of the statistics report.

* ``stats_one_year_api_calls``: Kollus calls made by a cold-cache one-year report on a site
  whose daily snapshot schedule has been running (every settled day recorded; here recorded
  by ``kollus_stats --backfill`` against the sandbox). Target ≤ 4. The report reads settled
  days from snapshots and asks Kollus only for the unsettled tail: one summary-daily call and
  one content-rank call (see docs/statistics.md, "The call budget").
* ``stats_one_year_api_calls_no_history``: the same report on a fresh install with no snapshot
  at all (informational; 4 summary-daily + 4 content-rank calls of ≤ 92 days each).
* ``stats_cached_api_calls``: calls made by loading the same report again (target = 0).
* ``stats_report_ratio``: median time of the warm-cache one-year report (50 ranked rows on the
  page, joined with the local mirror) ÷ median time of Wagtail's own "Aging pages" report
  listing 50 pages, in the same run (target ≤ 1.5).

Environment: ``BENCH_STATS_LOADS`` (timed loads per side, default 30).
"""

from __future__ import annotations

import os
import statistics
import time
from datetime import timedelta

TARGETS = {
    "stats_one_year_api_calls": ("<=", 4),
    "stats_cached_api_calls": ("<=", 0),
    "stats_report_ratio": ("<=", 1.5),
}

ROWS = 50


def _median_seconds(client, url: str, loads: int) -> float:
    for _ in range(3):  # warm up templates, caches and connections
        assert client.get(url).status_code == 200
    samples = []
    for _ in range(loads):
        started = time.perf_counter()
        response = client.get(url)
        samples.append(time.perf_counter() - started)
        assert response.status_code == 200
    return statistics.median(samples)


def publish_pages(count: int) -> None:
    """``count`` published pages: what Wagtail's "Aging pages" report (the baseline) lists."""
    from wagtail.models import Page

    root = Page.objects.get(depth=1)
    for index in range(count):
        root.add_child(instance=Page(title=f"Benchmark page {index:03d}", slug=f"bench-{index}"))
    for page in Page.objects.filter(depth=2):
        page.save_revision().publish()


def _mirror(sandbox) -> None:
    """Local rows for every sandbox video, so the report's join does real work."""
    from wagtail_kollus.models import KollusMedia

    with sandbox.state.lock:
        media = [(key, m["title"]) for key, m in sandbox.state.media.items()]
    KollusMedia.objects.bulk_create(
        KollusMedia(upload_file_key=key, title=title, poster_url=f"https://img.example/{key}.jpg")
        for key, title in media
    )


def _measure(sandbox) -> dict[str, float]:
    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.test import Client

    from wagtail_kollus.stats.periods import DateRange, utc_today
    from wagtail_kollus.stats.snapshots import record_days

    user = get_user_model().objects.create_superuser("bench", "bench@example.com", "pw")
    client = Client()
    client.force_login(user)
    report = "/admin/kollus/statistics/?range=365"
    results: dict[str, float] = {}

    cache.clear()
    sandbox.reset()
    assert client.get(report).status_code == 200
    results["stats_one_year_api_calls_no_history"] = sandbox.request_count("kollus.*")

    today = utc_today()
    record_days(DateRange(today - timedelta(days=364), today - timedelta(days=2)))
    cache.clear()
    sandbox.reset()
    assert client.get(report).status_code == 200
    results["stats_one_year_api_calls"] = sandbox.request_count("kollus.*")

    before = sandbox.request_count("kollus.*")
    assert client.get(report).status_code == 200
    results["stats_cached_api_calls"] = sandbox.request_count("kollus.*") - before

    _mirror(sandbox)
    publish_pages(ROWS)
    loads = int(os.environ.get("BENCH_STATS_LOADS", "30"))
    ours = _median_seconds(client, report, loads)
    theirs = _median_seconds(client, "/admin/reports/aging-pages/", loads)
    results["stats_report_seconds"] = ours
    results["wagtail_aging_pages_seconds"] = theirs
    results["stats_report_ratio"] = ours / theirs
    return results


def run() -> dict[str, float]:
    from django.db import connection
    from django.test.utils import (
        override_settings,
        setup_test_environment,
        teardown_test_environment,
    )

    from wagtail_kollus.sandbox.testing import SandboxServer

    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    sandbox = SandboxServer().start()
    try:
        kollus = sandbox.kollus_settings(
            KOLLUS_RATE_LIMIT_PER_SECOND=10_000, KOLLUS_RATE_LIMIT_PER_MINUTE=1_000_000
        )
        with override_settings(WAGTAIL_KOLLUS=kollus, DEBUG=False):
            return _measure(sandbox)
    finally:
        sandbox.stop()
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()
