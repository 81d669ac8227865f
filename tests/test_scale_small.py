"""The scale benchmark (``make bench ONLY=scale``) at a small size, on SQLite: it runs, no screen
crashes, the chooser's cold open makes no Kollus call, and every screen makes as many queries
with three times the rows (no query per row, per video or per day). The figures of a run this
small mean nothing; the full run is on PostgreSQL with 50 000 videos."""

from __future__ import annotations

import pytest

from benchmarks import scale

from .test_stats_helpers import FAST_LIMITS

SMALL = scale.Sizes(
    media=(20, 60),
    videos=(5, 15),
    days=10,
    log_rows=(20, 60),
    loads=1,
    baseline_pages=2,
    report_days=7,
)

# Screens whose query count must not change with the number of rows.
SCREENS = (
    "library_listing",
    "callback_log",
    "sync_report",
    "stats_report",
    "stats_report_by_title_page_2",
    "stats_report_by_play_time",
    "stats_video",
    "stats_panel",
)


@pytest.fixture
def results(sandbox, settings, tmp_path):
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, **FAST_LIMITS}
    settings.MEDIA_ROOT = str(tmp_path)
    return scale.measure(sandbox, SMALL)


@pytest.mark.django_db
def test_the_scale_benchmark_runs_and_every_screen_is_flat(results):
    assert results["chooser_cold_open_kollus_calls"] == 0
    for small, large in (("20", "60"), ("5", "15")):
        for screen in SCREENS:
            key = f"{screen}_queries_{{}}"
            if key.format(small) in results:
                assert results[key.format(small)] == results[key.format(large)], screen
    assert all(
        f"{screen}_queries_60" in results or f"{screen}_queries_15" in results for screen in SCREENS
    )
    for metric in ("library_listing_growth", "stats_report_growth", "library_listing_ratio_60"):
        assert results[metric] > 0
