"""Short runs of the render and writers benchmarks, so that ``make test`` catches a benchmark
that no longer runs. The figures of a short run mean nothing; the full ones come from
``make bench ONLY=render`` and ``make bench ONLY=writers``."""

from __future__ import annotations

import glob

import pytest

from benchmarks import render, writers

pytestmark = pytest.mark.filterwarnings("ignore::jwt.InsecureKeyLengthWarning")


@pytest.mark.django_db
def test_the_render_benchmark_runs(sandbox, settings):
    settings.TEMPLATES = render.templates_setting()
    results = render.measure(sandbox, loads=2)
    assert results["render_http_calls"] == 0
    assert results["render_extra_queries_50"] <= 1
    for size in render.SIZES:
        assert results[f"render_ratio_{size}"] > 0


@pytest.mark.skipif(
    not glob.glob("/usr/lib/postgresql/*/bin/initdb"), reason="PostgreSQL is not installed"
)
def test_the_writers_benchmark_runs_on_a_throwaway_postgresql():
    with writers.throwaway_postgres() as database_url:
        results = writers.measure(database_url, seconds=1)
    assert results["writers_deadlocks"] == 0
    assert results["writers_tps_1"] > 0 and results["writers_tps_4"] > 0


@pytest.mark.django_db
def test_the_gate_benchmark_runs(settings):
    from benchmarks import gate

    settings.WAGTAIL_KOLLUS = gate.bench_settings()
    settings.ROOT_URLCONF = "benchmarks.gate"
    results = gate.measure(loads=8, users=40, pages=6, earlier=50)
    assert results["play_callback_queries"] <= 3
    assert results["play_callback_p99_ms"] > 0
    assert results["play_callback_throughput_ratio"] > 0


@pytest.mark.django_db
def test_the_library_import_benchmark_runs(sandbox, settings):
    from benchmarks import library_import

    settings.WAGTAIL_KOLLUS = sandbox.kollus_settings(
        KOLLUS_RATE_LIMIT_PER_SECOND=1, KOLLUS_RATE_LIMIT_PER_MINUTE=60
    )
    results = library_import.measure(sandbox, 250)
    assert results["import_api_calls"] == 3  # three list pages, no detail call
    assert results["import_api_calls_per_100_media"] <= 2
    assert results["import_max_calls_in_any_second"] <= 2
    assert library_import.most_in_window([0.0, 0.5, 0.99, 1.0, 5.0], 1.0) == 3


def test_the_library_grid_benchmark_runs_and_the_grid_is_flat(admin_client, settings, tmp_path):
    from benchmarks import library

    settings.MEDIA_ROOT = str(tmp_path)
    results = library.measure_grid(admin_client, (5, 45), loads=1)
    assert results["library_grid_queries_growth"] == 0
    assert results["library_grid_queries_5"] == results["library_grid_queries"]
    assert results["library_list_queries_5"] == results["library_list_queries_45"]
    assert results["library_grid_ratio"] > 0
def test_the_progress_benchmark_runs(settings):
    from benchmarks import progress

    settings.WAGTAIL_KOLLUS = progress.bench_settings()
    settings.ROOT_URLCONF = "benchmarks.progress"
    results = progress.measure(loads=8, learners=30, videos=4)
    assert results["lms_callback_queries"] <= 3
    assert results["lms_callback_p99_ms"] > 0
    assert results["lms_callback_throughput_ratio"] > 0


@pytest.mark.django_db(transaction=True)  # the export is measured in a child process
def test_the_progress_reports_benchmark_runs():
    from benchmarks import progress_reports

    results = progress_reports.measure(learners=30, videos=3, loads=2)
    # The page's report costs the same queries for 10 learners as for 30: none per learner.
    assert results["progress_report_queries_10"] == results["progress_report_queries_30"]
    assert results["progress_export_rows"] == 90
    assert results["progress_report_ratio"] > 0
    assert 0 <= results["progress_export_rss_growth_mib"] < 64
