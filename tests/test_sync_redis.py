"""Scale-out: django-q2 with a real Redis broker and several workers (docs/sync.md)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time

import pytest

from tests.test_sync_cluster import SYNC_TEST_SETTINGS, make_course, publish, synced_link
from wagtail_kollus.sync.testing import running_cluster

pytestmark = [pytest.mark.redis, pytest.mark.cluster, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def synced(sandbox, settings):
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, **SYNC_TEST_SETTINGS}
    return sandbox


@pytest.fixture
def redis_server(tmp_path):
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (Debian: apt-get install redis-server)")
    redis = pytest.importorskip("redis", reason="the 'redis' extra is not installed")
    with socket.socket() as probe:  # a free port for this xdist worker
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(tmp_path),
            "--save",
            "",
            "--appendonly",
            "no",
        ],  # fmt: skip
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = redis.Redis(host="127.0.0.1", port=port)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                pytest.fail("redis-server did not start")
            time.sleep(0.05)
    yield {"host": "127.0.0.1", "port": port, "db": 0}
    process.terminate()
    process.wait(timeout=10)


def test_several_workers_on_redis_sync_each_page_once(synced, redis_server):
    pages = [make_course(f"Course {n}") for n in range(6)]
    with running_cluster(ORM=None, REDIS=redis_server, WORKERS=3):
        for page in pages:
            publish(page)
            publish(page, intro="<p>Second edit</p>")  # two jobs per page race for it
        links = [synced_link(page, version=2) for page in pages]
        import redis

        # The jobs really went through Redis (the ORM broker would leave no trace there).
        commands = redis.Redis(**redis_server).info("commandstats")
        assert commands["cmdstat_rpush"]["calls"] >= 12
    assert len({link.content_id for link in links}) == 6
    markers = [c["extra"].get("external_id") for c in synced.state.contents.values()]
    assert sorted(m for m in markers if m) == sorted(link.marker for link in links)
    for link in links:
        record = synced.state.render_content(synced.state.contents[link.content_id])
        assert record["description_html"] == "<p>Second edit</p>"
