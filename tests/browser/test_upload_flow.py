"""An editor uploads a clip from the library's upload page: the browser posts the file straight
to the sandbox's upload host, the progress bar reaches 100 %, and the state turns "ready" once
the sandbox's callbacks have been processed by a real django-q2 cluster.

(The chooser modal's upload tab embeds the same form, ``includes/upload_form.html``.)
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from wagtail_kollus.media.testing import point_callbacks_at, running_cluster
from wagtail_kollus.models import KollusMedia, MediaState


@pytest.fixture
def lifecycle(admin_page, sandbox_live, settings, live_server):
    point_callbacks_at(sandbox_live, live_server.url, settings)
    with running_cluster():
        yield admin_page
        sandbox_live.reset()


@pytest.fixture
def clip(tmp_path):
    """A small generated "MP4": an ftyp box and 3 MiB of padding (the sandbox does not decode)."""
    path = tmp_path / "generated-clip.mp4"
    header = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"
    path.write_bytes(header + bytes(range(256)) * (3 * 4096))
    return path


def test_upload_from_the_library_reaches_ready(lifecycle, live_server, clip, sandbox_live):
    page = lifecycle
    page.goto(live_server.url + reverse("kollus_media:add"))
    html = page.content()
    for secret in ("sandbox-access-token", "sandbox-security-key", "sandbox-account"):
        assert secret not in html

    page.set_input_files("[data-kollus-upload-file]", str(clip))
    page.fill("input[name=title]", "Generated clip")
    page.click("[data-kollus-upload-start]")

    page.wait_for_function(
        "document.querySelector('[data-kollus-upload-percent]').textContent.trim() === '100 %'"
    )
    assert page.eval_on_selector("[data-kollus-upload-bar]", "el => el.value") == 100
    assert page.locator("[data-kollus-upload-speed]").inner_text().endswith("/s")

    page.wait_for_selector("[data-kollus-upload-state-label][data-state=ready]", timeout=40_000)
    media = KollusMedia.objects.get(title="Generated clip")
    assert media.state == MediaState.READY
    assert media.original_file_size == clip.stat().st_size
    assert sandbox_live.state.media[media.upload_file_key]["original_file_size"] == clip.stat().st_size
    assert page.locator("[data-kollus-upload-error]").is_hidden()
    assert page.console_errors == []

    page.goto(live_server.url + reverse("kollus_media:index"))
    assert "Generated clip" in page.content()


def test_a_refused_upload_shows_a_clear_error(lifecycle, live_server, clip, sandbox_live):
    page = lifecycle
    sandbox_live.faults.set("kollus.upload_create_url", status=500, times=10)
    page.goto(live_server.url + reverse("kollus_media:add"))
    page.set_input_files("[data-kollus-upload-file]", str(clip))
    page.click("[data-kollus-upload-start]")
    error = page.locator("[data-kollus-upload-error]")
    error.wait_for(state="visible")
    assert "upload URL" in error.inner_text()
    assert page.locator("[data-kollus-upload-start]").is_enabled()
    assert KollusMedia.objects.get().state == MediaState.FAILED
