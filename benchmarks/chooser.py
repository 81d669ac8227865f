"""Benchmark group ``chooser``: what browsing the contents API in the chooser costs.

Against a sandbox seeded with 10,000 contents:

* ``chooser_overhead_ratio``: median time of the chooser's results view (uncached, so it
  makes its remote calls every time) ÷ (median time of the bare API calls it makes, made
  the same way, + median time of Wagtail's own chooser results view (``ChooserViewSet``, the
  base of the snippet chooser) over a local model holding the same 10,000 rows), in the same
  run. Target ≤ 1.15: the plugin adds
  little beyond the API's own latency and what Wagtail's chooser costs anyway.
* ``chooser_cache_hit_http_calls``: remote calls made by opening the modal a second time
  with the cache on (target = 0).

Environment: ``BENCH_CHOOSER_LOADS`` (timed loads per side, default 40).
"""

from __future__ import annotations

import os
from typing import Any

from . import interleaved_medians

TARGETS = {
    "chooser_overhead_ratio": ("<=", 1.15),
    "chooser_cache_hit_http_calls": ("<=", 0),
}

CONTENTS = 10_000
SNIPPET_NAMESPACE = "bench_snippet_chooser"

# The URLconf of this benchmark (``ROOT_URLCONF = "benchmarks.chooser"``), filled by
# ``_urlpatterns()``: Wagtail's admin plus a snippet chooser over a local model, mounted
# here because registering a snippet after the admin's URLs loaded would not route.
urlpatterns: list = []


def _urlpatterns(snippet_chooser: Any) -> list:
    from django.urls import include, path
    from wagtail.admin import urls as wagtailadmin_urls
    from wagtail.admin.auth import require_admin_access
    from wagtail.utils.urlpatterns import decorate_urlpatterns

    snippet_urls = decorate_urlpatterns(snippet_chooser.get_urlpatterns(), require_admin_access)
    return [
        path(
            "bench-snippets/",
            include((snippet_urls, SNIPPET_NAMESPACE), namespace=SNIPPET_NAMESPACE),
        ),
        path("admin/", include(wagtailadmin_urls)),
    ]


def _local_rows(sandbox) -> None:
    """The sandbox's contents as local rows: the baseline lists the same data from the DB."""
    from wagtail_kollus.models import KollusVideo

    with sandbox.state.lock:
        records = list(sandbox.state.contents.values())
    rows = []
    for record in records:
        language, text = next(iter(record["translations"].items()))
        rows.append(
            KollusVideo(
                content_id=record["content_id"],
                item_id=record["content_id"],
                language=language,
                title=text["title"][:500],
                content_title=text["title"][:500],
                content_status=record["status"],
                media_content_key=f"bench-{record['content_id']}",
                thumbnail_url=str(record["featured_image"])[:1000],
            )
        )
    KollusVideo.objects.bulk_create(rows, batch_size=1000)


def _get(client, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    assert b"data-kollus-chooser-error" not in response.content, "the chooser hit an error"


def _measure(sandbox, snippet_chooser) -> dict[str, float]:
    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.test import Client, override_settings
    from django.urls import reverse

    from wagtail_kollus.accounts import contents_client
    from wagtail_kollus.chooser.remote import CHOOSER_MAX_READ_TIMEOUT, CHOOSER_MAX_RETRIES

    user = get_user_model().objects.create_superuser("bench", "bench@example.com", "pw")
    client = Client()
    client.force_login(user)
    loads = int(os.environ.get("BENCH_CHOOSER_LOADS", "40"))
    results: dict[str, float] = {}

    choose = reverse("kollus_video_chooser:choose")
    ours_url = reverse("kollus_video_chooser:choose_results") + "?q=&status=publish"
    theirs_url = reverse(f"{SNIPPET_NAMESPACE}:choose_results")

    # Cache hit: the second opening of the modal makes no remote call.
    cache.clear()
    _get(client, choose)
    before = sandbox.request_count()
    _get(client, choose)
    results["chooser_cache_hit_http_calls"] = sandbox.request_count() - before

    # Overhead, uncached: every load pays the API's latency, as the bare calls do.
    uncached = {**sandbox.kollus_settings(), "CHOOSER_CACHE_TIMEOUT": 0}
    with override_settings(WAGTAIL_KOLLUS=uncached):
        before = sandbox.request_count()
        _get(client, ours_url)
        calls_per_load = sandbox.request_count() - before
        assert calls_per_load == 1, "the bare side below must make the calls the view makes"

        def bare_calls() -> None:
            # What the view asks, asked the same way (a fresh client per request).
            api = contents_client(
                read_timeout=CHOOSER_MAX_READ_TIMEOUT, max_retries=CHOOSER_MAX_RETRIES
            )
            api.list_contents(language="ko", content_type="vod", status="publish", limit=20)

        # The three sides take turns in every round (see interleaved_medians).
        ours, bare, theirs = interleaved_medians(
            lambda: _get(client, ours_url),
            bare_calls,
            lambda: _get(client, theirs_url),
            loads=loads,
            warmup=3,
        )
    results["chooser_remote_calls_per_load"] = calls_per_load
    results["chooser_results_seconds"] = ours
    results["bare_api_calls_seconds"] = bare
    results["snippet_chooser_results_seconds"] = theirs
    results["chooser_overhead_ratio"] = ours / (bare + theirs)
    return results


def run() -> dict[str, float]:
    import sys

    from django.db import connection
    from django.test.utils import override_settings
    from wagtail.admin.viewsets.chooser import ChooserViewSet

    from wagtail_kollus.models import KollusVideo
    from wagtail_kollus.sandbox.testing import SandboxServer

    # Wagtail's generic ChooserViewSet: the snippet chooser minus its snippet-only extras
    # (which need a registered snippet). A slightly cheaper, so stricter, baseline.
    snippet_chooser = ChooserViewSet(
        SNIPPET_NAMESPACE, model=KollusVideo, register_widget=False, per_page=20
    )
    sys.modules[__name__].urlpatterns[:] = _urlpatterns(snippet_chooser)
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    sandbox = SandboxServer(contents=CONTENTS).start()
    try:
        _local_rows(sandbox)
        with override_settings(
            WAGTAIL_KOLLUS=sandbox.kollus_settings(), ROOT_URLCONF=__name__, DEBUG=False
        ):
            return _measure(sandbox, snippet_chooser)
    finally:
        sandbox.stop()
        connection.creation.destroy_test_db(old_name, verbosity=0)
