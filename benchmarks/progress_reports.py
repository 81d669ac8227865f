"""Benchmark group ``progress_reports``: the learner progress reports at course scale.

On the test settings' SQLite database (a fresh test database), logged in as a superuser:

* ``progress_report_ratio``: median time of one page's learner progress report (figures,
  charts, per-video breakdown and the first 50 learners) with 10 000 learners ÷ median time of
  Wagtail's own page history report of a page with as many log entries, timed in turn in the
  same rounds (target ≤ 1.5).
* ``progress_export_rss_growth_mib``: peak RSS growth of a fresh process while it reads, to
  the end, the CSV export of a page with 100 000 progress rows (10 000 learners × 10 videos)
  (target ≤ 64). The XLSX export's growth is informational
  (``progress_export_xlsx_rss_growth_mib``): Wagtail writes the workbook into memory before
  sending it, so its growth is the zipped file's size.

Informational: both raw times, the report's query count at 10 learners and at 10 000 (equal:
no query per learner), and the report over the 100 000-row page.

Environment: ``BENCH_PROGRESS_LOADS`` (timed loads per side, default 20),
``BENCH_PROGRESS_LEARNERS`` (default 10 000), ``BENCH_PROGRESS_VIDEOS`` (videos per learner
on the export's page, default 10).
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime, timedelta

from . import interleaved_medians

TARGETS = {
    "progress_report_ratio": ("<=", 1.5),
    "progress_export_rss_growth_mib": ("<=", 64),
}

BATCH = 5000


def _learners(count: int) -> list[int]:
    from django.contrib.auth import get_user_model

    User = get_user_model()
    User.objects.bulk_create(
        (User(username=f"learner{n:06d}", email=f"l{n}@example.com", password="!")
         for n in range(count)),
        batch_size=BATCH,
    )
    return list(
        User.objects.filter(username__startswith="learner").order_by("pk").values_list(
            "pk", flat=True
        )
    )


def _page(title: str):
    from wagtail.models import Page

    parent = Page.objects.get(depth=2) if Page.objects.filter(depth=2).exists() else (
        Page.get_first_root_node()
    )
    return parent.add_child(instance=Page(title=title, slug=uuid.uuid4().hex[:12]))


def _progress(page, learner_ids: list[int], videos: int) -> None:
    """``videos`` rows per learner on ``page``: a spread of percents, a third completed."""
    from wagtail_kollus.models import KollusVideo, LearnerProgress

    KollusVideo.objects.bulk_create(
        KollusVideo(title=f"Video {v}", media_content_key=f"bench-mck-{page.pk}-{v}")
        for v in range(videos)
    )
    now = datetime.now(UTC)

    def rows():
        for index, learner in enumerate(learner_ids):
            for v in range(videos):
                percent = (index * 7 + v * 13) % 101
                last = now - timedelta(hours=(index + v) % 900)
                yield LearnerProgress(
                    learner_id=learner,
                    page=page,
                    media_content_key=f"bench-mck-{page.pk}-{v}",
                    watched_intervals=[[0, percent * 6]],
                    watched_seconds=percent * 6,
                    duration=600,
                    percent=percent,
                    last_position=percent * 6,
                    first_watched_at=last - timedelta(days=1),
                    last_watched_at=last,
                    completed_at=last if percent >= 90 else None,
                )

    LearnerProgress.objects.bulk_create(rows(), batch_size=BATCH)


def _history(page, user, count: int) -> None:
    """``count`` log entries of ``page``: what Wagtail's page history report lists."""
    from django.contrib.contenttypes.models import ContentType
    from wagtail.models import PageLogEntry

    content_type = ContentType.objects.get_for_model(page)
    now = datetime.now(UTC)
    PageLogEntry.objects.bulk_create(
        (
            PageLogEntry(
                page=page,
                content_type=content_type,
                label=page.title,
                action="wagtail.edit",
                timestamp=now - timedelta(seconds=n),
                user=user,
                content_changed=True,
            )
            for n in range(count)
        ),
        batch_size=BATCH,
    )


def _query_count(client, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)  # warm: per-process caches (content types) are not the report's cost
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def measure(*, learners: int, videos: int, loads: int) -> dict[str, float]:
    """The group's figures on the current database (the smoke test calls it small)."""
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse

    from .scale import _export_rss_growth_in_child, _getter

    user = get_user_model().objects.create_superuser("bench", "bench@example.com", "pw")
    client = Client()
    client.force_login(user)
    results: dict[str, float] = {}
    ids = _learners(learners)

    small = _page("Ten learners")
    _progress(small, ids[:10], 1)
    report = _page("Report page")
    _progress(report, ids, 1)
    _history(report, user, learners)
    ours = reverse("wagtail_kollus_progress:page", args=[report.pk])
    theirs = reverse("wagtailadmin_pages:history", args=[report.pk])
    results["progress_report_queries_10"] = _query_count(
        client, reverse("wagtail_kollus_progress:page", args=[small.pk])
    )
    results[f"progress_report_queries_{learners}"] = _query_count(client, ours)
    report_s, history_s = interleaved_medians(
        _getter(client, ours), _getter(client, theirs), loads=loads, warmup=3
    )
    results["progress_report_ms"] = report_s * 1000
    results["wagtail_page_history_ms"] = history_s * 1000
    results["progress_report_ratio"] = report_s / history_s

    export_page = _page("Export page")
    _progress(export_page, ids, videos)
    big = reverse("wagtail_kollus_progress:page", args=[export_page.pk])
    results["progress_report_ms_export_page"] = (
        interleaved_medians(_getter(client, big), loads=max(loads // 4, 1), warmup=1)[0] * 1000
    )
    # In a fresh interpreter, after it showed the report: a process that built the 100 000
    # rows above keeps their freed memory resident, which would hide any growth.
    growth, rows = _export_rss_growth_in_child(user, big, big + "?export=csv")
    assert rows == learners * videos, f"the CSV export has {rows} rows"
    results["progress_export_rows"] = rows
    results["progress_export_rss_growth_mib"] = growth
    results["progress_export_xlsx_rss_growth_mib"], _ = _export_rss_growth_in_child(
        user, big, big + "?export=xlsx"
    )
    return results


def run() -> dict[str, float]:
    from django.db import connection
    from django.test.utils import override_settings

    # Without setup_test_environment(): its instrumented template rendering (a copy of the
    # context per template, for the test client's response.context) would weigh on each side
    # by how many templates it renders, which a server never pays.
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        # DEBUG off: Django would otherwise keep every query of the export in memory.
        with override_settings(DEBUG=False):
            return measure(
                learners=int(os.environ.get("BENCH_PROGRESS_LEARNERS", "10000")),
                videos=int(os.environ.get("BENCH_PROGRESS_VIDEOS", "10")),
                loads=int(os.environ.get("BENCH_PROGRESS_LOADS", "20")),
            )
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
