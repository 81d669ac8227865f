"""Testing a site that uses wagtail-kollus: the sandbox, ready videos, sync and the queue.

Everything here talks to the bundled sandbox (``wagtail_kollus.sandbox``) over real HTTP, so
a site's tests exercise the plugin as it runs in production, without a Kollus account.
In the site's ``conftest.py``::

    from wagtail_kollus.testing import sandbox, sandbox_server  # noqa: F401  (fixtures)

``sandbox_server`` starts one sandbox per test session (per xdist worker) on a free port;
``sandbox`` points ``settings.WAGTAIL_KOLLUS`` at it for one test and resets it afterwards.
Then, in a test with database access:

- :func:`ready_video` gives a library video that plays, for a page's video block;
- :func:`sync_now` pushes a published page to the contents API now, in the test's process;
- :func:`running_cluster` runs queued jobs in real django-q2 workers instead, with
  :func:`point_callbacks_at` (Kollus's callbacks to the live server), :func:`upload_to_sandbox`
  and :func:`wait_for` for what those processes do in their own time.

See docs/testing.md.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import requests
from django.db import connections
from django.test import TestCase
from django.urls import reverse
from django_q.brokers import get_broker
from django_q.cluster import Cluster
from django_q.conf import Conf

from .accounts import kollus_client
from .chooser.copying import copy_media_to_video
from .media import services
from .models import KollusMedia, KollusVideo, MediaState, PageContentLink
from .sandbox.config import DEFAULT_CHANNEL_KEY
from .sandbox.testing import TEST_CALLBACK_TOKEN, SandboxServer, sandbox, sandbox_server
from .sync.engine import sync_page

logger = logging.getLogger("wagtail_kollus.testing")

__all__ = [
    "CALLBACK_KINDS",
    "TEST_CALLBACK_TOKEN",
    "SandboxServer",
    "kill_cluster",
    "point_callbacks_at",
    "q_conf",
    "ready_video",
    "running_cluster",
    "sandbox",
    "sandbox_server",
    "sync_now",
    "upload_to_sandbox",
    "wait_for",
]

T = TypeVar("T")


# --- django-q2 ----------------------------------------------------------------------------------
@contextlib.contextmanager
def q_conf(**conf: Any) -> Iterator[None]:
    """Override attributes of ``django_q.conf.Conf`` (e.g. ``ORM=None, REDIS={...}`` to queue
    through Redis) in this process for the duration of the block; restored afterwards."""
    saved = {name: getattr(Conf, name) for name in conf}
    for name, value in conf.items():
        setattr(Conf, name, value)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(Conf, name, value)


@contextlib.contextmanager
def running_cluster(**conf: Any) -> Iterator[Cluster]:
    """A django-q2 cluster (its broker from ``Q_CLUSTER``) for the duration of the block.

    ``conf`` overrides attributes of ``django_q.conf.Conf`` (e.g. ``RETRY=2``) for this cluster
    only (:func:`q_conf`); they are restored afterwards. The cluster forks its workers when it
    starts, so change settings *before* entering the block: later changes are not seen by the
    workers. Use it in tests with ``transaction=True`` database access (the workers must see
    committed rows).
    """
    with q_conf(**conf):
        # Forked workers must not share the parent's SQLite/PostgreSQL connection.
        connections.close_all()
        cluster = Cluster(get_broker())
        cluster.start()
        try:
            yield cluster
        finally:
            stop_cluster(cluster)


def stop_cluster(cluster: Cluster, timeout: float = 60.0) -> bool:
    """Stop ``cluster`` as ``Cluster.stop()`` does, but kill it (its sentinel and the sentinel's
    workers, monitor and pusher) if it has not stopped within ``timeout`` seconds; whether it
    stopped by itself.

    django-q2's sentinel puts one ``STOP`` per worker into the task queue with a blocking
    ``put``: when workers have just been recycled and the queue is full, no worker is left to
    take them and the sentinel waits for ever (seen in the ``scale_sync`` benchmark: sentinel in
    ``Queue.put``, every worker exited). A test or a benchmark must fail or go on, not hang.
    """
    sentinel = cluster.sentinel
    if sentinel is None or not sentinel.is_alive():
        return True
    cluster.stop_event.set()
    sentinel.join(timeout)
    if not sentinel.is_alive():
        cluster.start_event = cluster.stop_event = None  # as Cluster.stop() leaves it
        return True
    logger.warning(
        "The django-q2 cluster did not stop within %s s; killing its processes.", timeout
    )
    kill_cluster(cluster)
    return False


def kill_cluster(cluster: Cluster) -> None:
    """SIGKILL ``cluster``'s sentinel and its workers, monitor and pusher, as ``kill -9`` of a
    ``qcluster`` (or an OOM kill, a host lost) does: the jobs it had taken off the broker and
    not finished go with it. :func:`stop_cluster` (and :func:`running_cluster`'s exit) then
    finds it stopped."""
    sentinel = cluster.sentinel
    if sentinel is not None and sentinel.is_alive():
        # Stopped first, so that it cannot replace a child killed before it.
        with contextlib.suppress(ProcessLookupError):
            os.kill(sentinel.pid, signal.SIGSTOP)
        for pid in [*_child_pids(sentinel.pid), sentinel.pid]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        sentinel.join(10)
    cluster.start_event = cluster.stop_event = None


def _child_pids(pid: int) -> list[int]:
    # Linux lists a process's children here; elsewhere only the sentinel is killed (its
    # children then read end-of-file on its queues and exit).
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as children:
            return [int(child) for child in children.read().split()]
    except OSError:
        return []


def wait_for(
    probe: Callable[[], T], *, timeout: float = 20.0, interval: float = 0.05, message: str = ""
) -> T:
    """Call ``probe`` until it returns something truthy, and return that.

    Fails with ``AssertionError(message)`` after ``timeout`` seconds: for what other processes
    (a cluster's workers, the sandbox's callbacks) do in their own time.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(message or f"condition not met within {timeout} s")
        time.sleep(interval)


# --- Kollus's callbacks ---------------------------------------------------------------------------
#: The sandbox's callback kinds → this plugin's callback endpoint names.
CALLBACK_KINDS = {
    "upload": "upload",
    "transcoding": "transcoding",
    "content_update": "content-update",
    "channel_add": "channel-add",
    "channel_delete": "channel-delete",
}


def point_callbacks_at(sandbox: SandboxServer, base_url: str, settings: Any) -> None:
    """Send the sandbox's platform callbacks to the site at ``base_url`` (pytest-django's
    ``live_server.url``), as the Kollus console would be set up.

    Also lifts the Kollus rate limit for the test (the sandbox does not enforce one). Call it
    before :func:`running_cluster`: forked workers inherit the settings.
    """
    settings.WAGTAIL_KOLLUS = sandbox.kollus_settings(
        KOLLUS_RATE_LIMIT_PER_SECOND=100, KOLLUS_RATE_LIMIT_PER_MINUTE=6000
    )
    token = settings.WAGTAIL_KOLLUS["CALLBACK_TOKEN"]
    for sandbox_kind, kind in CALLBACK_KINDS.items():
        path = reverse(f"wagtail_kollus:callback-{kind}", kwargs={"token": token})
        sandbox.set_callback_url(sandbox_kind, base_url + path)


# --- videos -------------------------------------------------------------------------------------
def upload_to_sandbox(title: str, content: bytes = b"\x00" * 2048) -> str:
    """Upload a file to the sandbox the way the editor's browser does; its upload file key.

    The sandbox then "transcodes" it and, if :func:`point_callbacks_at` was called, sends the
    callbacks that make the library row ready.
    """
    client = kollus_client()
    try:
        ticket = client.create_upload_url(title=title)
    finally:
        client.close()
    response = requests.post(
        ticket.upload_url,
        data={"accept": "application/json"},
        files={"upload-file": (f"{title}.mp4", content, "video/mp4")},
        timeout=10,
    )
    response.raise_for_status()
    return ticket.upload_file_key


def ready_video(sandbox: SandboxServer, *, title: str = "Test video") -> KollusVideo:
    """A library ``KollusVideo`` that plays: one of the sandbox's transcoded media, mirrored
    into the video library as the plugin would (read back from the sandbox's Kollus API).

    Put ``{"type": "<your block>", "value": {"video": video.pk}}`` in a page's StreamField.
    """
    with sandbox.state.lock:
        upload_file_key = next(
            key
            for key, media in sandbox.state.media.items()
            if media["stage"] == "completed"
            and any(c["channel_key"] == DEFAULT_CHANNEL_KEY for c in media["channels"])
        )
    media = KollusMedia.objects.create(title=title, upload_file_key=upload_file_key)
    # Mirroring sends the lifecycle signals after the commit: run them now, as in production.
    with TestCase.captureOnCommitCallbacks(execute=True):
        outcome = services.refresh_media(media.pk)
    media.refresh_from_db()
    if outcome != "refreshed" or media.state != MediaState.READY:
        raise AssertionError(f"the sandbox media {upload_file_key} is not ready: {outcome}")
    return copy_media_to_video(media)


# --- sync -----------------------------------------------------------------------------------------
def sync_now(page: Any) -> PageContentLink | None:
    """Push a published page that has a content mapping to the contents API now, in this
    process (instead of waiting for the queued job); its ``PageContentLink`` afterwards.

    Inside a test's transaction the job queued on publish never runs: this is the same
    push, with the follow-up work it schedules after the commit run as well.
    """
    with TestCase.captureOnCommitCallbacks(execute=True):
        sync_page(page.pk)
    return PageContentLink.objects.filter(page_key=page.pk).first()
