"""Test helpers for the video lifecycle: a real django-q2 cluster and sandbox uploads.

Used by this project's tests and usable by sites testing their own signal receivers::

    with running_cluster():
        ...  # queued tasks run in real worker processes

    media = upload_to_sandbox(client, path_or_bytes, title="Intro")
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any

from django.db import connections
from django.urls import reverse
from django_q.brokers import get_broker
from django_q.cluster import Cluster


@contextlib.contextmanager
def running_cluster() -> Iterator[Any]:
    """A django-q2 cluster (``Q_CLUSTER`` settings) for the duration of the block.

    Database connections are closed first: forked workers must not share the parent's
    SQLite/PostgreSQL connection.
    """
    connections.close_all()
    cluster = Cluster(get_broker())
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


def wait_for(predicate: Callable[[], Any], timeout: float = 20.0, interval: float = 0.1) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail with AssertionError."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)


#: The sandbox's callback kinds → this plugin's callback endpoint names.
CALLBACK_KINDS = {
    "upload": "upload",
    "transcoding": "transcoding",
    "content_update": "content-update",
    "channel_add": "channel-add",
    "channel_delete": "channel-delete",
}


def point_callbacks_at(sandbox: Any, base_url: str, settings: Any) -> None:
    """Send the sandbox's platform callbacks to this site, as the Kollus console would.

    Also lifts the Kollus rate limit for the test (the sandbox does not enforce one). Call
    before starting a cluster: forked workers inherit the settings.
    """
    settings.WAGTAIL_KOLLUS = sandbox.kollus_settings(
        KOLLUS_RATE_LIMIT_PER_SECOND=100, KOLLUS_RATE_LIMIT_PER_MINUTE=6000
    )
    token = settings.WAGTAIL_KOLLUS["CALLBACK_TOKEN"]
    for sandbox_kind, kind in CALLBACK_KINDS.items():
        path = reverse(f"wagtail_kollus:callback-{kind}", kwargs={"token": token})
        sandbox.set_callback_url(sandbox_kind, base_url + path)
