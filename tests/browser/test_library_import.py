"""An editor imports a Kollus channel of 300 media from the library, Kollus fails half-way,
the screen says why, and "Resume import" finishes it: exactly 300 rows.

Real parts: headless Chromium on the Wagtail admin (live server), a django-q2 cluster in other
processes running the import task slice by slice, the sandbox's Kollus API over HTTP with a
fault injected after the first page, and Kollus's real rate limit (1 call/s).
"""

from __future__ import annotations

import pytest
import requests

from wagtail_kollus.models import ImportStatus, KollusImportRun, KollusMedia
from wagtail_kollus.testing import running_cluster

pytestmark = pytest.mark.cluster


def test_import_300_media_interrupted_then_resumed(admin_page, live_server, sandbox_live, settings):
    page = admin_page
    settings.WAGTAIL_KOLLUS = sandbox_live.kollus_settings(
        MAX_RETRIES=0,
        IMPORT_TASK_SECONDS=0,  # one page per task: the run goes from task to task
    )
    seeded = requests.post(
        sandbox_live.base_url + "/_sandbox/media", json={"count": 300}, timeout=5
    )
    assert seeded.status_code == 201
    sandbox_live.faults.set("kollus.media_list", status=401, after=1)  # page 2 is refused

    # Kollus videos → Actions → Import from Kollus.
    page.goto(f"{live_server.url}/admin/kollus-videos/")
    page.get_by_role("button", name="Actions").click()
    page.get_by_role("link", name="Import from Kollus").click()
    page.wait_for_url(f"{live_server.url}/admin/kollus-videos/import/")
    progress = page.locator("[data-kollus-import-progress]")
    assert "No import has run yet." in progress.inner_text()

    with running_cluster():
        page.get_by_role("button", name="Import from Kollus").click()
        page.get_by_text("The import has started.").wait_for()
        # The screen follows the task by polling: the run stops at page 2 and says why.
        page.get_by_role("alert").wait_for(timeout=30_000)
        assert "Stopped" in progress.inner_text()
        assert page.get_by_role("button", name="Resume import").is_enabled()
        assert "100 of 300 media read" in progress.inner_text()
        assert "401" in page.get_by_role("alert").inner_text()
        assert page.locator("progress.kollus-import__bar").get_attribute("value") == "33"
        assert KollusMedia.objects.count() == 100

        sandbox_live.faults.clear()
        page.get_by_role("button", name="Resume import").click()
        page.get_by_text("The import goes on from page 2.").wait_for()
        # The last page read shows 300 of 300 a poll before the run is marked finished.
        progress = page.locator("[data-kollus-import-progress]")
        progress.filter(has_text="Finished").wait_for(timeout=30_000)
        assert "300 of 300 media read" in progress.inner_text()
        assert page.locator("progress.kollus-import__bar").get_attribute("value") == "100"

    run = KollusImportRun.objects.get()
    assert run.status == ImportStatus.FINISHED and run.created_count == 300
    assert KollusMedia.objects.count() == 300
    assert KollusMedia.objects.values("upload_file_key").distinct().count() == 300
    assert sandbox_live.request_count("kollus.media_detail") == 0
    assert page.console_errors == []
