"""Benchmark group ``library``: the video library's grid of posters at 100 and 10 000 videos.

On the throwaway PostgreSQL of ``scripts/postgres.sh`` (fsync off), in a child process whose
Django uses it (as ``scale`` does): library rows made by the sandbox's own media generator and
as many Wagtail images; both listings timed in turn (``interleaved_medians``) through Django's
test client, logged in as a superuser, in their grid layouts.

* ``library_grid_queries``: queries of one grid page with 10 000 videos; must equal
  ``library_grid_queries_100`` (no query per card: target ``library_grid_queries_growth`` = 0).
* ``library_grid_ratio``: the grid with 10 000 videos ÷ Wagtail's image listing (grid) with
  10 000 images, same rounds (target ≤ 1.3).

Informational: raw times at both sizes, the list layout's queries.

Environment: ``BENCH_LIBRARY_LOADS`` (timed loads per side, default 40),
``BENCH_LIBRARY_DATABASE_URL`` (a throwaway PostgreSQL to use instead of starting one).
``python -m benchmarks.library measure`` is the child process (internal).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Callable

from . import (
    child_test_database_and_sandbox,
    interleaved_medians,
    run_measure_child,
    scale_database,
)

TARGETS = {
    "library_grid_queries_growth": ("<=", 0),
    "library_grid_ratio": ("<=", 1.3),
}

SIZES = (100, 10_000)


def measure_grid(
    client,
    sizes: tuple[int, int] = SIZES,
    *,
    loads: int = 40,
    progress: Callable[[str], None] = lambda message: None,
) -> dict[str, float]:
    """The grid's queries and its time ÷ Wagtail's image grid's, at each of ``sizes`` rows
    (on the configured, migrated database; ``client`` logged in as a superuser)."""
    from django.urls import reverse

    from .scale import _getter, _grow_images, _query_count, _SeededMedia, _settle_database

    grid = reverse("kollus_media:index") + "?layout=grid"
    listed = reverse("kollus_media:index") + "?layout=list"
    images = reverse("wagtailimages:index") + "?layout=grid"
    seeded = _SeededMedia(sizes[-1])  # the scale group's media generator and seed
    results: dict[str, float] = {}
    for size in sizes:
        seeded.grow_library(size)
        _grow_images(size)
        _settle_database()
        progress(f"{size} videos and images")
        results[f"library_list_queries_{size}"] = _query_count(client, listed)
        results[f"library_grid_queries_{size}"] = _query_count(client, grid)
        ours, theirs = interleaved_medians(
            _getter(client, grid), _getter(client, images), loads=loads, warmup=3
        )
        results[f"library_grid_ms_{size}"] = ours * 1000
        results[f"wagtail_image_grid_ms_{size}"] = theirs * 1000
        results[f"library_grid_ratio_{size}"] = ours / theirs
    small, large = sizes
    results["library_grid_queries"] = results[f"library_grid_queries_{large}"]
    results["library_grid_queries_growth"] = (
        results[f"library_grid_queries_{large}"] - results[f"library_grid_queries_{small}"]
    )
    results["library_grid_ratio"] = results[f"library_grid_ratio_{large}"]
    return results


def run() -> dict[str, float]:
    with scale_database("BENCH_LIBRARY_DATABASE_URL") as database_url:
        return run_measure_child("benchmarks.library", database_url)


def _child() -> None:
    with child_test_database_and_sandbox(), tempfile.TemporaryDirectory() as media_root:
        from django.contrib.auth import get_user_model
        from django.test import Client
        from django.test.utils import override_settings

        with override_settings(MEDIA_ROOT=media_root, DEBUG=False):
            user = get_user_model().objects.create_superuser("bench", "bench@example.com", "pw")
            client = Client()
            client.force_login(user)
            loads = int(os.environ.get("BENCH_LIBRARY_LOADS", "40"))
            results = measure_grid(
                client,
                loads=loads,
                progress=lambda m: print(f"  library: {m}", file=sys.stderr, flush=True),
            )
    print(json.dumps(results))


if __name__ == "__main__" and sys.argv[1:] == ["measure"]:
    _child()
