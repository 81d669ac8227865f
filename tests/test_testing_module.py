"""``wagtail_kollus.testing``, the helpers site developers test their pages with (the docs'
examples of it run in ``test_docs_examples.py``)."""

from __future__ import annotations

import pytest

from tests.factories import make_course, publish
from tests.sync_support import SYNC_TEST_SETTINGS, configure
from wagtail_kollus.models import MediaState, VideoSource
from wagtail_kollus.testing import ready_video, sync_now

pytestmark = pytest.mark.django_db


def test_ready_video_is_a_library_video_of_a_media_the_sandbox_serves(sandbox):
    video = ready_video(sandbox, title="Welcome")
    assert video.source == VideoSource.LIBRARY and video.is_playable
    assert video.media.state == MediaState.READY
    assert video.media_content_key == video.media.media_content_key
    with sandbox.state.lock:
        remote = sandbox.state.media[video.media.upload_file_key]
    assert video.media_content_key in {c["media_content_key"] for c in remote["channels"]}
    assert sandbox.request_count("kollus.*") >= 1  # read back over HTTP, not invented


def test_sync_now_pushes_a_published_page_in_this_process(sandbox, settings):
    configure(settings, **SYNC_TEST_SETTINGS)
    page = publish(make_course(title="Synced now"))
    link = sync_now(page)
    assert link.state == "synced" and link.content_id is not None
    record = sandbox.state.render_content(sandbox.state.contents[link.content_id])
    assert record["title"] == "Synced now"
    assert sandbox.request_count("contents.create") == 1


def _stuck_sentinel(ready) -> None:
    # What django-q2's sentinel does when it hangs in Queue.put: it has children and never
    # looks at its stop event again.
    import multiprocessing
    import time

    child = multiprocessing.get_context("fork").Process(target=time.sleep, args=(600,))
    child.start()
    ready.put(child.pid)
    time.sleep(600)


@pytest.mark.django_db(False)
def test_a_cluster_that_does_not_stop_is_killed_with_its_children_instead_of_hanging():
    import multiprocessing
    import time
    from types import SimpleNamespace

    from wagtail_kollus.testing import stop_cluster, wait_for

    context = multiprocessing.get_context("fork")
    ready = context.Queue()
    sentinel = context.Process(target=_stuck_sentinel, args=(ready,))
    sentinel.start()
    child_pid = ready.get(timeout=20)
    cluster = SimpleNamespace(sentinel=sentinel, stop_event=context.Event(), start_event=None)
    started = time.monotonic()
    assert stop_cluster(cluster, timeout=1) is False
    assert time.monotonic() - started < 15
    assert not sentinel.is_alive()
    wait_for(lambda: not _alive(child_pid), timeout=5, message="the sentinel's child was left")


def _alive(pid: int) -> bool:
    # A killed child of the killed sentinel is reaped by init; a zombie counts as gone.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ")[1][0] != "Z"
    except OSError:
        return False
