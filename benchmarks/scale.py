"""Benchmark group ``scale``: the admin at the sizes of the largest Kollus customers.

On the throwaway PostgreSQL of ``scripts/postgres.sh`` (fsync off), in a child process whose
Django uses it, with the sandbox answering Kollus: 50 000 library videos (and as many Wagtail
images), 10 000 videos × 365 days of statistics snapshots (bulk inserts; building them takes
minutes), 50 000 callback deliveries and sync links. Admin screens are timed through Django's
test client logged in as a superuser, in turn with Wagtail's screens (``interleaved_medians``):
the screen of the same kind, and Wagtail's "Aging pages" report over 50 pages, whose cost does
not depend on our tables: the *reference* that growths are corrected by (see ``_growth``).

* ``library_listing_growth``: the video library's listing with 50 000 videos ÷ with 1 000,
  each first divided by the reference's time in the same rounds (target ≤ 1.2).
* ``library_listing_ratio_50k``: the listing with 50 000 videos ÷ Wagtail's image listing with
  50 000 images, same rounds (target ≤ 1.3).
* ``stats_report_ms_10k``: median time of the one-year statistics report with 10 000 videos,
  warm (the daily schedule has prepared the recorded days; Kollus's answer for the three
  unsettled days is cached, as for 5 minutes after any load) (target ≤ 250).
* ``stats_report_growth``: that report with 10 000 videos ÷ with 100, corrected as above
  (target ≤ 1.5).
* ``dashboard_panel_ms_10k``: median time to render the dashboard's statistics panel (top five
  of 7 and 30 days, the 30-day charts) with 10 000 videos (target ≤ 30).
* ``stats_export_rss_growth_mib_10k``: peak RSS growth of a fresh process while it streams the
  one-year CSV export of 10 000 videos, after showing the report (target ≤ 32).
* ``chooser_cold_open_kollus_calls``: Kollus calls made by opening the video chooser (its upload
  tab included) on a cold cache, with ``CHOOSER_CACHE_TIMEOUT`` 60 and 0 (target = 0).

Informational: every raw time (and ``*_growth_raw``); Wagtail's image listing growth;
``stats_report_cold_ms_10k`` (the first load after Kollus's cached answer expired: the answer
is copied in and added to the recorded days, once per ``STATS_CACHE_TIMEOUT``);
``stats_prepare_s_10k`` (what the daily schedule adds to sum the preset periods' recorded
days); the per-video view; the XLSX export's RSS; the callback log's and the sync report's
growth from 1 000 to 50 000 rows; every screen's query count at both sizes.

Room for the bulk-sync metrics of the same issue (``sync_100k_pages_completed``,
``sync_worker_scaling``): another ``measure_*`` called from ``measure``.

Environment: ``BENCH_SCALE_LOADS`` (timed loads per side, default 40),
``BENCH_SCALE_DATABASE_URL`` (use this PostgreSQL instead of starting one; it must be a
throwaway server: a test database is created and dropped on it), ``BENCH_SCALE_PARTS`` (a
comma-separated subset of ``chooser,library,logs,statistics``, default all: e.g. ``library``
measures the listing in a few minutes, without the year of statistics; targets of the parts
left out are reported missing).
``python -m benchmarks.scale measure`` is the child process (internal).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from . import (
    ROOT,
    child_test_database_and_sandbox,
    interleaved_medians,
    run_measure_child,
    scale_database,
)

TARGETS = {
    "library_listing_growth": ("<=", 1.2),
    "library_listing_ratio_50k": ("<=", 1.3),
    "stats_report_ms_10k": ("<=", 250),
    "stats_report_growth": ("<=", 1.5),
    "dashboard_panel_ms_10k": ("<=", 30),
    "stats_export_rss_growth_mib_10k": ("<=", 32),
    "chooser_cold_open_kollus_calls": ("<=", 0),
}


@dataclass(frozen=True)
class Sizes:
    media: tuple[int, int]  # library videos (and Wagtail images), small then large
    videos: tuple[int, int]  # videos with statistics, small then large
    days: int  # recorded days of statistics
    log_rows: tuple[int, int]  # callback deliveries and sync links, small then large
    loads: int  # timed loads per side
    baseline_pages: int = 50  # pages in Wagtail's "Aging pages" report (the stats baseline)
    report_days: int = 365  # the statistics report's preset period
    # Measure the export's memory in a fresh interpreter (whose RSS is not the high-water mark
    # of building the data). Needs the data committed: not inside a test's transaction.
    export_in_fresh_process: bool = False

    @staticmethod
    def label(size: int) -> str:
        return f"{size // 1000}k" if size >= 1000 and size % 1000 == 0 else str(size)


FULL = Sizes(
    media=(1_000, 50_000),
    videos=(100, 10_000),
    days=365,
    log_rows=(1_000, 50_000),
    loads=int(os.environ.get("BENCH_SCALE_LOADS", "40")),
    export_in_fresh_process=True,
)

# Kollus is fast and unlimited here: the benchmark measures the site, not the rate limiter.
SANDBOX_LIMITS = {"KOLLUS_RATE_LIMIT_PER_SECOND": 10_000, "KOLLUS_RATE_LIMIT_PER_MINUTE": 1_000_000}
REPORT = "/admin/kollus/statistics/?range={days}"
SEED = 15
PARTS = ("chooser", "library", "logs", "statistics")


def parts_wanted(value: str | None = None) -> tuple[str, ...]:
    """The parts ``BENCH_SCALE_PARTS`` names (all when unset); an unknown name is an error."""
    if value is None:
        value = os.environ.get("BENCH_SCALE_PARTS", "")
    wanted = tuple(part.strip() for part in value.split(",") if part.strip()) or PARTS
    unknown = sorted(set(wanted) - set(PARTS))
    if unknown:
        raise SystemExit(f"BENCH_SCALE_PARTS: unknown {unknown}; choose from {', '.join(PARTS)}")
    return wanted


# --- the parent: a throwaway PostgreSQL and a child process using it --------------------------


def run() -> dict[str, float]:
    parts_wanted()  # a misspelt part fails before PostgreSQL starts
    with scale_database() as database_url:
        return run_measure_child("benchmarks.scale", database_url)


def _child() -> None:
    """Django on the PostgreSQL of DATABASE_URL: a fresh test database, the sandbox, measure."""
    with child_test_database_and_sandbox() as sandbox, tempfile.TemporaryDirectory() as media:
        from django.test.utils import override_settings

        settings = sandbox.kollus_settings(**SANDBOX_LIMITS)
        with override_settings(WAGTAIL_KOLLUS=settings, MEDIA_ROOT=media, DEBUG=False):
            results = measure(sandbox, FULL, progress=_progress, parts=parts_wanted())
    print(json.dumps(results))


def _progress(message: str) -> None:
    print(f"  scale: {message}", file=sys.stderr, flush=True)


# --- the measurement (also run small by tests/test_scale_small.py, on SQLite) ----------------


def measure(
    sandbox,
    sizes: Sizes,
    *,
    progress: Callable[[str], None] = lambda message: None,
    parts: tuple[str, ...] = PARTS,
) -> dict[str, float]:
    """The measurements of ``parts``, on the configured database (already migrated) and
    ``sandbox``."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    user = get_user_model().objects.create_superuser("bench-scale", "bench@example.com", "pw")
    client = Client()
    client.force_login(user)
    from django.urls import reverse

    from .stats import publish_pages

    # Wagtail's "Aging pages" report over a fixed number of pages: timed in every round as the
    # reference whose cost does not change with our tables (see ``_growth``).
    publish_pages(sizes.baseline_pages)
    reference = reverse("wagtailadmin_reports:aging_pages")
    seeded = _SeededMedia(sizes.media[-1])
    results: dict[str, float] = {}
    if "chooser" in parts:
        results.update(measure_chooser(client, sandbox))
    if "library" in parts:
        progress("library listing")
        results.update(measure_library(client, reference, seeded, sizes, progress))
    if "logs" in parts:
        progress("callback log and sync report")
        results.update(measure_logs(client, reference, sizes, progress))
    if "statistics" in parts:
        progress("statistics")
        results.update(
            measure_statistics(client, user, reference, sandbox, seeded, sizes, progress)
        )
    return results


def _growth(results: dict[str, float], name: str, sizes: tuple[int, int], reference: str) -> float:
    """How much slower ``name`` is at the large size than at the small one, corrected for the
    machine's speed at the two moments: each time is first divided by the reference screen's
    time in the same rounds. On a shared machine the load changes between the two phases
    (minutes apart), and a raw ratio would measure that; ``{name}_growth_raw`` is kept too."""
    small, large = (Sizes.label(size) for size in sizes)
    results[f"{name}_growth_raw"] = results[f"{name}_ms_{large}"] / results[f"{name}_ms_{small}"]
    return (results[f"{name}_ms_{large}"] / results[f"{reference}_ms_{large}"]) / (
        results[f"{name}_ms_{small}"] / results[f"{reference}_ms_{small}"]
    )


def measure_chooser(client, sandbox) -> dict[str, float]:
    """Kollus calls made by a cold open of the chooser (upload tab included)."""
    from django.conf import settings
    from django.core.cache import caches
    from django.test.utils import override_settings
    from django.urls import reverse

    from wagtail_kollus.conf import kollus_settings

    calls, times = [], []
    for timeout in (60, 0):
        wagtail_kollus = {**settings.WAGTAIL_KOLLUS, "CHOOSER_CACHE_TIMEOUT": timeout}
        with override_settings(WAGTAIL_KOLLUS=wagtail_kollus):
            caches[kollus_settings.CACHE_ALIAS].clear()
            before = sandbox.request_count("kollus.*")
            started = time.perf_counter()
            response = client.get(reverse("kollus_video_chooser:choose"))
            times.append(time.perf_counter() - started)
            assert response.status_code == 200, response.status_code
            assert b"kollus_upload_" in response.content, "the upload tab is not in the modal"
            calls.append(sandbox.request_count("kollus.*") - before)
    return {
        "chooser_cold_open_kollus_calls": max(calls),
        "chooser_cold_open_ms": times[0] * 1000,
    }


# --- the video library against Wagtail's image listing ---------------------------------------


def measure_library(
    client, reference: str, seeded: _SeededMedia, sizes: Sizes, progress
) -> dict[str, float]:
    from django.urls import reverse

    library, images = reverse("kollus_media:index"), reverse("wagtailimages:index")
    results: dict[str, float] = {}
    for size in sizes.media:
        seeded.grow_library(size)
        _grow_images(size)
        _settle_database()
        progress(f"{size} videos and images")
        ours, theirs, steady = interleaved_medians(
            _getter(client, library),
            _getter(client, images),
            _getter(client, reference),
            loads=sizes.loads,
            warmup=3,
        )
        label = sizes.label(size)
        results[f"library_listing_ms_{label}"] = ours * 1000
        results[f"wagtail_image_listing_ms_{label}"] = theirs * 1000
        results[f"reference_ms_{label}"] = steady * 1000
        results[f"library_listing_queries_{label}"] = _query_count(client, library)
    large = sizes.label(sizes.media[-1])
    results["library_listing_growth"] = _growth(
        results, "library_listing", sizes.media, "reference"
    )
    results["wagtail_image_listing_growth"] = _growth(
        results, "wagtail_image_listing", sizes.media, "reference"
    )
    results[f"library_listing_ratio_{large}"] = (
        results[f"library_listing_ms_{large}"] / results[f"wagtail_image_listing_ms_{large}"]
    )
    return results


class _SeededMedia:
    """The sandbox's own generator of Kollus media (keys, titles, states), as library rows."""

    def __init__(self, count: int) -> None:
        from wagtail_kollus.sandbox import seed

        self.by_key = seed.media_library(count, SEED)
        self.rows = list(self.by_key.values())
        self.created = 0

    def grow_library(self, total: int) -> None:
        from wagtail_kollus.media.categories import remember_category
        from wagtail_kollus.media.filters import forget_live_media_count
        from wagtail_kollus.models import KollusMedia, MediaState
        from wagtail_kollus.sandbox.config import DEFAULT_CATEGORY_KEY

        states = {"completed": MediaState.READY, "transcoding": MediaState.TRANSCODING}
        new = self.rows[self.created : total]
        KollusMedia.objects.bulk_create(
            (
                KollusMedia(
                    upload_file_key=row["upload_file_key"],
                    title=row["title"],
                    category_key=row["category_key"],
                    category_name="Sandbox",
                    state=states.get(row["stage"], MediaState.FAILED),
                    duration_seconds=row["duration"],
                    poster_url=f"https://img.example/{row['upload_file_key']}.jpg",
                    media_content_key=(row["channels"] or [{}])[0].get("media_content_key", ""),
                )
                for row in new
            ),
            batch_size=1000,
        )
        self.created = total
        # What saving each row would have done (bulk inserts send no signals).
        forget_live_media_count()
        remember_category(DEFAULT_CATEGORY_KEY, "Sandbox")


def _grow_images(total: int) -> None:
    """``total`` Wagtail images sharing one real file (renditions of the first page are made
    by the warm-up loads, as a site's would already exist)."""
    from django.conf import settings
    from PIL import Image as PillowImage
    from wagtail.images import get_image_model
    from wagtail.models import Collection

    image_model = get_image_model()
    path = Path(settings.MEDIA_ROOT) / "original_images" / "bench-scale.png"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        PillowImage.new("RGB", (320, 180), (40, 90, 160)).save(path)
    existing = image_model.objects.count()
    root = Collection.get_first_root_node()
    image_model.objects.bulk_create(
        (
            image_model(
                title=f"Benchmark image {n:05d}",
                file="original_images/bench-scale.png",
                width=320,
                height=180,
                file_size=path.stat().st_size,
                collection=root,
            )
            for n in range(existing, total)
        ),
        batch_size=1000,
    )


# --- the callback log and the sync report -------------------------------------------------------


def measure_logs(client, reference: str, sizes: Sizes, progress) -> dict[str, float]:
    from django.urls import reverse

    from wagtail_kollus.models import CallbackDelivery, PageContentLink

    screens = {
        "callback_log": reverse("wagtail_kollus_callbacks:index"),
        "sync_report": reverse("wagtail_kollus_sync:report"),
        "log_reference": reference,
    }
    results: dict[str, float] = {}
    for size in sizes.log_rows:
        _grow_log_rows(CallbackDelivery, size, _delivery)
        _grow_log_rows(PageContentLink, size, _link)
        _settle_database()
        progress(f"{size} callback deliveries and sync links")
        times = interleaved_medians(
            *(_getter(client, url) for url in screens.values()), loads=sizes.loads, warmup=3
        )
        label = sizes.label(size)
        for (name, url), taken in zip(screens.items(), times, strict=True):
            results[f"{name}_ms_{label}"] = taken * 1000
            if name != "log_reference":
                results[f"{name}_queries_{label}"] = _query_count(client, url)
    for name in ("callback_log", "sync_report"):
        results[f"{name}_growth"] = _growth(results, name, sizes.log_rows, "log_reference")
    return results


def _grow_log_rows(model, total: int, make: Callable[[int], object]) -> None:
    existing = model.objects.count()
    model.objects.bulk_create((make(n) for n in range(existing, total)), batch_size=1000)


def _delivery(n: int):
    from wagtail_kollus.models import CallbackDelivery, CallbackKind, DeliveryStatus

    status = DeliveryStatus.FAILED if n % 97 == 0 else DeliveryStatus.PROCESSED
    kinds = list(CallbackKind)
    return CallbackDelivery(
        kind=kinds[n % len(kinds)],
        fingerprint=f"bench-scale-{n}",
        upload_file_key=f"bench-ufk-{n % 5000}",
        payload={"upload_file_key": f"bench-ufk-{n % 5000}"},
        status=status,
        error_message="Kollus API: HTTP 503" if status == DeliveryStatus.FAILED else "",
    )


def _link(n: int):
    from django.utils import timezone

    from wagtail_kollus.models import PageContentLink, SyncState

    # Mostly synced, as on a site whose sync keeps up; a few waiting or failed.
    state = SyncState.FAILED if n % 101 == 0 else SyncState.PENDING if n % 37 == 0 else "synced"
    return PageContentLink(
        page_key=10_000_000 + n,
        page_type="testapp.coursepage",
        page_title=f"Benchmark course {n}",
        content_id=n + 1,
        state=state,
        version=2 if state != SyncState.SYNCED else 1,
        synced_version=1,
        last_error="HTTP 422" if state == SyncState.FAILED else "",
        requested_at=timezone.now() - timedelta(seconds=n),
    )


# --- statistics ---------------------------------------------------------------------------------


def measure_statistics(
    client, user, reference: str, sandbox, seeded: _SeededMedia, sizes: Sizes, progress
) -> dict[str, float]:
    from django.core.cache import caches
    from django.urls import reverse

    from wagtail_kollus.conf import kollus_settings
    from wagtail_kollus.stats import service

    history = _StatsHistory(sandbox, seeded, sizes)
    report = REPORT.format(days=sizes.report_days)
    results: dict[str, float] = {}
    for size in sizes.videos:
        label = sizes.label(size)
        history.grow(size)
        progress(f"{size} videos x {sizes.days} days recorded")
        _settle_database()
        started = time.perf_counter()
        service.prepare_rankings()  # what the daily schedule does after recording
        results[f"stats_prepare_s_{label}"] = time.perf_counter() - started
        caches[kollus_settings.CACHE_ALIAS].clear()  # Kollus's answers expired
        started = time.perf_counter()
        assert client.get(report).status_code == 200
        results[f"stats_report_cold_ms_{label}"] = (time.perf_counter() - started) * 1000
        ours, theirs = interleaved_medians(
            _getter(client, report), _getter(client, reference), loads=sizes.loads, warmup=3
        )
        results[f"stats_report_ms_{label}"] = ours * 1000
        results[f"stats_reference_ms_{label}"] = theirs * 1000
        video = reverse("wagtail_kollus_stats:video", args=[history.top_key()])
        video += f"?range={sizes.report_days}"
        results[f"stats_video_ms_{label}"] = _median(_getter(client, video), sizes.loads) * 1000
        panel = _panel_renderer(user)
        results[f"dashboard_panel_ms_{label}"] = _median(panel, sizes.loads) * 1000
        for name, url in (
            ("report", report),
            ("report_by_title_page_2", f"{report}&ordering=title&p=2"),
            ("report_by_play_time", f"{report}&ordering=-play_time"),
            ("video", video),
        ):
            results[f"stats_{name}_queries_{label}"] = _query_count(client, url)
        results[f"stats_panel_queries_{label}"] = _query_count(None, None, call=panel)
        for export in ("csv", "xlsx"):
            url = f"{report}&export={export}"
            if sizes.export_in_fresh_process:
                growth, rows = _export_rss_growth_in_child(user, report, url)
            else:
                growth, rows = _export_rss_growth_mib(client, url)
            assert rows is None or rows >= history.videos, f"the {export} export has {rows} rows"
            results[f"stats_export_{export}_rss_growth_mib_{label}"] = growth
        results[f"stats_export_rss_growth_mib_{label}"] = results[
            f"stats_export_csv_rss_growth_mib_{label}"
        ]
    results["stats_report_growth"] = _growth(
        results, "stats_report", sizes.videos, "stats_reference"
    )
    return results


class _StatsHistory:
    """``size`` library videos with a year of recorded daily views, known to the sandbox (which
    answers the unsettled days), as a site whose daily schedule has been running has them."""

    def __init__(self, sandbox, seeded: _SeededMedia, sizes: Sizes) -> None:
        self.sandbox = sandbox
        self.seeded = seeded
        self.days = sizes.days
        self.videos = 0
        self.top = ""

    def grow(self, total: int) -> None:
        from django.db import connection

        from wagtail_kollus.models import DailyVideoViews, KollusMedia, MediaState

        ready = KollusMedia.objects.filter(state=MediaState.READY).order_by("pk")
        bounds = list(ready.values_list("pk", flat=True)[self.videos : total])
        assert len(bounds) == total - self.videos, "not enough ready library videos"
        first, last = bounds[0], bounds[-1]
        keys = set(ready.filter(pk__range=(first, last)).values_list("upload_file_key", flat=True))
        with self.sandbox.state.lock:  # Kollus knows them: it answers the unsettled days
            for key in keys:
                self.sandbox.state.media[key] = self.seeded.by_key[key]
            # Marked dirty, so the sandbox's reset restores its seed for the next test.
            self.sandbox.state.changed()
        today = datetime.now(UTC).date()
        media, views = (
            connection.ops.quote_name(model._meta.db_table)
            for model in (KollusMedia, DailyVideoViews)
        )
        # Only quoted table names go into the text; the rest are parameters.
        sql = (
            f"INSERT INTO {views} (date, upload_file_key, title, views, play_time_seconds)"  # noqa: S608
            f" SELECT %s, upload_file_key, title, (id * 7919 + %s) %% 50,"
            f" ((id * 7919 + %s) %% 50) * (30 + id %% 600)"
            f" FROM {media} WHERE state = %s AND id BETWEEN %s AND %s"
            f" AND (id * 7919 + %s) %% 50 > 0"
        )
        with connection.cursor() as cursor:
            for offset in range(1, self.days + 1):
                day = today - timedelta(days=offset)
                shift = offset * 104_729
                cursor.execute(sql, [day, shift, shift, MediaState.READY, first, last, shift])
        self._record_snapshots(today)
        self.videos = total
        self.top = next(iter(keys))

    def _record_snapshots(self, today) -> None:
        """A snapshot per day, as the schedule leaves them: final up to three days ago, the
        last two provisional (Kollus's 36-hour lag). Stamped now: the days were recorded again
        (with more videos), so every stored ranking of them is out of date."""
        from wagtail_kollus.models import DailyStatsSnapshot
        from wagtail_kollus.models.stats import day_is_settled_at

        now = datetime.now(UTC)
        DailyStatsSnapshot.objects.all().delete()
        snapshots = []
        for offset in range(1, self.days + 1):
            day = today - timedelta(days=offset)
            recorded = (
                now
                if offset <= 2
                else day_is_settled_at(day) + timedelta(hours=1, seconds=self.videos)
            )
            snapshots.append(
                DailyStatsSnapshot(
                    date=day,
                    unique_visitors=1000 + offset,
                    transfer_bytes=10**9 + offset,
                    recorded_at=recorded,
                    videos_recorded_at=recorded,
                )
            )
        DailyStatsSnapshot.objects.bulk_create(snapshots)

    def top_key(self) -> str:
        return self.top


def _panel_renderer(user) -> Callable[[], object]:
    from django.test import RequestFactory

    from wagtail_kollus.stats.panels import StatisticsPanel

    request = RequestFactory().get("/admin/")
    request.user = user

    def render() -> str:
        return StatisticsPanel().render_html({"request": request})

    return render


def _export_rss_growth_mib(client, url: str) -> tuple[float, int | None]:
    """Peak RSS growth while reading ``url``'s response to the end, and its rows (CSV)."""
    _reset_peak_rss()
    before = _rss_kib("VmRSS")
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    # Read to the end and let go of each chunk, as a server sending it would. (The test
    # client closes the response itself once the content is exhausted.)
    size = lines = 0
    for chunk in response.streaming_content:
        size += len(chunk)
        lines += chunk.count(b"\n")
    growth = (_rss_kib("VmHWM") - before) / 1024
    assert size > 0, url
    if response["Content-Type"].startswith("text/csv"):
        return growth, lines - 1  # the headings' line
    return growth, None  # a zipped workbook: its rows are not counted here


_EXPORT_CHILD = """
import json, os, sys
sys.path.insert(0, {root!r})
from django.conf import settings
settings.DATABASES["default"]["NAME"] = {database!r}
settings.WAGTAIL_KOLLUS = json.loads({wagtail_kollus!r})
import django
django.setup()
from django.contrib.auth import get_user_model
from django.test import Client
from benchmarks.scale import _export_rss_growth_mib
client = Client()
client.force_login(get_user_model().objects.get(username={username!r}))
assert client.get({report!r}).status_code == 200  # the report an editor exports from
print(json.dumps(_export_rss_growth_mib(client, {url!r})))
"""


def _export_rss_growth_in_child(user, report: str, url: str) -> tuple[float, int | None]:
    """:func:`_export_rss_growth_mib` in a fresh interpreter on the same database."""
    from django.conf import settings
    from django.db import connection

    script = _EXPORT_CHILD.format(
        root=str(ROOT),
        database=connection.settings_dict["NAME"],
        wagtail_kollus=json.dumps(settings.WAGTAIL_KOLLUS),
        username=user.get_username(),
        report=report,
        url=url,
    )
    output = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=str(ROOT)
    ).stdout
    growth, rows = json.loads(output.strip().splitlines()[-1])
    return growth, rows


def _settle_database() -> None:
    """After bulk inserts, what autovacuum would do soon: the planner's statistics and the
    visibility map up to date (PostgreSQL), so the timings are the steady state's."""
    from django.db import connection

    if connection.vendor == "postgresql" and connection.get_autocommit():
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


def _reset_peak_rss() -> None:
    # Linux: writing 5 resets the peak RSS (VmHWM) to the current RSS.
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")


def _rss_kib(field: str) -> int:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


# --- helpers -------------------------------------------------------------------------------------


def _getter(client, url: str) -> Callable[[], object]:
    def get() -> None:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)

    return get


def _median(call: Callable[[], object], loads: int) -> float:
    for _ in range(3):
        call()
    samples = []
    for _ in range(loads):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def _query_count(client, url: str | None, call: Callable[[], object] | None = None) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    call = call or _getter(client, url)
    call()  # warm: what is built once (rollups, caches) is not counted
    with CaptureQueriesContext(connection) as queries:
        call()
    return len(queries)


if __name__ == "__main__" and sys.argv[1:] == ["measure"]:
    _child()
