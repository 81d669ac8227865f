"""Benchmark group ``sync``: what page → content record sync costs editors and the API.

* ``publish_overhead_ratio``: median time of the admin's publish request (the real edit view,
  its own form posted back) with sync on ÷ with sync off, same pages, same run. With sync on
  the request only writes the outbox row and enqueues on commit. Target ≤ 1.10.
* ``puts_for_100_pages_10_edits``: PUTs the contents API receives when 100 synced pages are
  each published 10 times (each with a real change) before a django-q2 cluster drains the
  queue. Target ≤ 200 (the outbox coalesces; the task pushes the latest revision).
* ``unchanged_republish_calls``: contents API calls made by republishing synced pages
  without a change. Target = 0.

Environment: ``BENCH_SYNC_PAGES`` (default 100), ``BENCH_SYNC_LOADS`` (timed publishes per
side, default 30).
"""

from __future__ import annotations

import os
import statistics
import time
from typing import Any

TARGETS = {
    "publish_overhead_ratio": ("<=", 1.10),
    "puts_for_100_pages_10_edits": ("<=", 200),
    "unchanged_republish_calls": ("<=", 0),
}

SETTINGS = {
    "SYNC_DEFAULT_CATEGORY_IDS": [5],
    "SYNC_DEFAULT_FEATURED_IMAGE": "https://example.com/course.jpg",
    "SYNC_COALESCE_SECONDS": 0.0,  # the burst is over before the cluster starts
}


def _home() -> Any:
    from wagtail.models import Locale, Page

    Locale.objects.get_or_create(language_code="en")
    return Page.get_first_root_node() or Page.add_root(instance=Page(title="Root"))


def _course(number: int) -> Any:
    from tests.testapp.models import CoursePage

    page = CoursePage(title=f"Course {number}", intro="<p>Intro</p>", live=False)
    _home().add_child(instance=page)
    return page


def _drain(sandbox: Any, pages: list[Any]) -> None:
    from wagtail_kollus.models import PageContentLink
    from wagtail_kollus.testing import running_cluster, wait_for

    keys = [p.pk for p in pages]

    def done() -> bool:
        rows = PageContentLink.objects.filter(page_key__in=keys)
        return rows.count() == len(keys) and not any(r.is_outstanding for r in rows)

    with running_cluster(WORKERS=2):
        wait_for(done, timeout=600, interval=0.2, message="the cluster did not drain the queue")


def _publish_overhead(client: Any, page: Any, loads: int) -> dict[str, float]:
    from django.test import override_settings
    from django.urls import reverse
    from wagtail.test.utils.form_data import querydict_from_html

    url = reverse("wagtailadmin_pages:edit", args=[page.pk])
    form = querydict_from_html(client.get(url).content.decode(), form_id="page-edit-form")
    form = form.copy()
    form["action-publish"] = "action-publish"
    form["body-count"] = "0"  # StreamField inputs are built by JS; the timed page has no blocks
    counter = iter(range(10**6))

    def publish() -> None:
        form["title"] = f"Course timed {next(counter)}"
        response = client.post(url, form)
        assert response.status_code == 302, response.status_code

    samples: dict[bool, list[float]] = {True: [], False: []}
    from django.conf import settings

    for index in range(loads * 2 + 4):
        enabled = index % 2 == 0  # alternate so drift hits both sides alike
        with override_settings(WAGTAIL_KOLLUS={**settings.WAGTAIL_KOLLUS, "SYNC_ENABLED": enabled}):
            started = time.perf_counter()
            publish()
            if index >= 4:
                samples[enabled].append(time.perf_counter() - started)
    on, off = statistics.median(samples[True]), statistics.median(samples[False])
    return {"publish_seconds_sync_on": on, "publish_seconds_sync_off": off,
            "publish_overhead_ratio": on / off}  # fmt: skip


def _measure(sandbox: Any) -> dict[str, float]:
    from django.contrib.auth import get_user_model
    from django.test import Client

    from tests.testapp.models import CoursePage

    results: dict[str, float] = {}
    count = int(os.environ.get("BENCH_SYNC_PAGES", "100"))
    loads = int(os.environ.get("BENCH_SYNC_LOADS", "30"))

    pages = [_course(n) for n in range(count)]
    for page in pages:
        page.save_revision().publish()
    _drain(sandbox, pages)  # every page has its record now

    sandbox._app.requests.clear()
    for page in pages:
        for edit in range(10):
            page = CoursePage.objects.get(pk=page.pk)
            page.intro = f"<p>Edit {edit}</p>"
            page.save_revision().publish()
    _drain(sandbox, pages)
    results["puts_for_100_pages_10_edits"] = sandbox.request_count("contents.update") * (
        100 / count
    )

    sandbox._app.requests.clear()
    for page in pages[:10]:
        CoursePage.objects.get(pk=page.pk).save_revision().publish()
    _drain(sandbox, pages[:10])
    results["unchanged_republish_calls"] = sandbox.request_count("contents.*")

    user = get_user_model().objects.create_superuser("bench", "bench@example.com", "pw")
    client = Client()
    client.force_login(user)
    results.update(_publish_overhead(client, pages[0], loads))
    return results


def run() -> dict[str, float]:
    from django.db import connection
    from django.test.utils import override_settings

    from wagtail_kollus.sandbox.testing import SandboxServer

    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    sandbox = SandboxServer().start()
    try:
        with override_settings(
            WAGTAIL_KOLLUS={**sandbox.kollus_settings(), **SETTINGS}, DEBUG=False
        ):
            return _measure(sandbox)
    finally:
        sandbox.stop()
        connection.creation.destroy_test_db(old_name, verbosity=0)
