"""An editor publishes a synced page and watches its contents record follow, fail and recover.

Real parts: headless Chromium on the Wagtail admin (live server), a django-q2 cluster in other
processes, the sandbox over HTTP. The panel updates itself by polling the status endpoint.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import make_course
from tests.sync_support import SYNC_TEST_SETTINGS, link_of
from wagtail_kollus.models import PageContentLink
from wagtail_kollus.testing import running_cluster

pytestmark = pytest.mark.cluster

STATE = "[data-kollus-sync-state='{}']"


def publish_in_editor(page, live_server, course) -> None:
    page.goto(f"{live_server.url}/admin/pages/{course.pk}/edit/")
    page.locator(".w-dropdown-button").get_by_role("button", name="More actions").click()
    page.locator("button[name='action-publish']").click()
    page.wait_for_url(lambda url: "/edit/" not in url)  # Wagtail goes back to the listing


def test_publish_shows_pending_then_synced_then_failure_and_retry(
    admin_page, live_server, sandbox_live, settings
):
    page = admin_page
    settings.WAGTAIL_KOLLUS = {
        **settings.WAGTAIL_KOLLUS,
        **SYNC_TEST_SETTINGS,
        "SYNC_COALESCE_SECONDS": 0.1,
    }
    course = make_course("Browser course")
    # Slow enough for the editor to see "pending" before the record exists.
    sandbox_live.faults.set("contents.create", latency=3, times=1)
    with running_cluster():
        publish_in_editor(page, live_server, course)
        page.goto(f"{live_server.url}/admin/pages/{course.pk}/edit/")
        page.locator(STATE.format("pending")).wait_for()
        page.locator(STATE.format("synced")).wait_for(timeout=20_000)
        assert "Content #" in page.locator("[data-kollus-sync-body]").inner_text()

        # The API refuses the next push: the editor sees why.
        sandbox_live.faults.set("contents.update", status=422)
        page.fill("#id_title", "Browser course, renamed")
        page.locator(".w-dropdown-button").get_by_role("button", name="More actions").click()
        page.locator("button[name='action-publish']").click()
        page.wait_for_url(lambda url: "/edit/" not in url)
        page.goto(f"{live_server.url}/admin/pages/{course.pk}/edit/")
        page.locator(STATE.format("failed")).wait_for(timeout=20_000)
        assert "Sandbox fault" in page.locator("[data-kollus-sync-message]").inner_text()

        # Healed: "Retry now" lands the edit without reloading the editor.
        sandbox_live.faults.clear()
        page.get_by_role("button", name="Retry now").click()
        page.locator(STATE.format("synced")).wait_for(timeout=20_000)

    link = link_of(course)
    record = sandbox_live.state.render_content(sandbox_live.state.contents[link.content_id])
    assert record["title"] == "Browser course, renamed"
    assert page.console_errors == []


def test_a_refused_record_is_explained_without_marking_the_form_invalid(
    admin_page, live_server, sandbox_live, settings, django_capture_on_commit_callbacks
):
    """The panel tells the editor what the contents API refused, in the page's terms, and
    Wagtail's error counters (Content tab, minimap) stay at zero: the form itself is valid."""
    from tests.sync_support import push_now

    page = admin_page
    settings.WAGTAIL_KOLLUS = {
        **settings.WAGTAIL_KOLLUS,
        **SYNC_TEST_SETTINGS,
        "SYNC_DEFAULT_FEATURED_IMAGE": "",  # the course has no image: the API refuses it
    }
    course = make_course("Course without an image")
    assert push_now(course, django_capture_on_commit_callbacks).state == "failed"

    page.goto(f"{live_server.url}/admin/pages/{course.pk}/edit/")
    page.locator(STATE.format("failed")).wait_for()
    page.wait_for_timeout(500)  # the counters update once the panels are initialised
    assert not page.locator(".w-tabs__errors").first.is_visible()  # it showed a red "2"
    assert page.locator(".w-minimap-item--error").count() == 0
    body = page.locator("[data-kollus-sync-body]").inner_text()
    assert "The “Image” field is required." in body
    assert "featured_image" not in body and "__all__" not in body
    assert body.count("is required") == 1  # said once
    assert page.console_errors == []


def test_without_a_worker_the_panel_says_the_queue_may_not_run(
    admin_page, live_server, sandbox_live, settings
):
    # No cluster here, as on a site where `manage.py qcluster` was never started.
    page = admin_page
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, **SYNC_TEST_SETTINGS}
    course = make_course("Nobody syncs me")
    publish_in_editor(page, live_server, course)
    PageContentLink.objects.filter(page_key=course.pk).update(
        requested_at=timezone.now() - timedelta(minutes=7)
    )
    page.goto(f"{live_server.url}/admin/pages/{course.pk}/edit/")
    hint = page.locator("[data-kollus-sync-worker-silent]")
    hint.wait_for()
    assert "waiting for 7\xa0minutes" in hint.inner_text()
    assert "manage.py qcluster" in hint.inner_text()
    # The panel polls while pending; the refreshed body keeps the hint.
    page.wait_for_timeout(2_000)
    assert page.locator("[data-kollus-sync-worker-silent]").count() == 1
    assert page.console_errors == []
