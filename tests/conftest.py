"""Shared fixtures. The sandbox fixtures come from ``wagtail_kollus.testing``, as a site's would
(docs/testing.md); rows and pages are built by ``tests/factories.py``."""

import shutil
import socket
import subprocess
import time

import pytest

from tests.sync_support import SYNC_TEST_SETTINGS
from wagtail_kollus.testing import sandbox, sandbox_server  # noqa: E402,F401


def ensure_wagtail_page_tree() -> None:
    """The rows Wagtail's migrations create (a locale, the root page, a welcome page, the
    default site, the root collection). Transactional tests flush the database afterwards, which deletes them, so
    any later test on the same worker (transactional or not) would meet no page tree."""
    from django.contrib.contenttypes.models import ContentType
    from wagtail.models import Collection, Locale, Page, Site

    Locale.objects.get_or_create(language_code="en")
    if not Collection.objects.filter(depth=1).exists():  # images and documents need it
        Collection.add_root(name="Root")
    root = Page.objects.filter(depth=1).first()
    if root is None:
        page_type = ContentType.objects.get_for_model(Page)
        root = Page.add_root(instance=Page(title="Root", slug="root", content_type=page_type))
    home = Page.objects.filter(depth=2).first()
    if home is None:
        home = root.add_child(instance=Page(title="Welcome to your new Wagtail site!",
                                            slug="home"))
    if not Site.objects.exists():
        Site.objects.create(hostname="localhost", root_page=home, is_default_site=True)


@pytest.fixture(autouse=True)
def _wagtail_page_tree(request):
    marker = request.node.get_closest_marker("django_db")
    transactional = "transactional_db" in request.fixturenames or (
        "live_server" in request.fixturenames
        or (marker is not None and marker.kwargs.get("transaction"))
    )
    if transactional:
        request.getfixturevalue("transactional_db")
    elif marker is not None or "db" in request.fixturenames:
        # Inside the test's transaction: restored rows roll back with it. Which tests an
        # xdist worker runs after a flush depends on the grouping, so every test checks.
        request.getfixturevalue("db")
    else:
        return
    ensure_wagtail_page_tree()


@pytest.fixture
def synced(sandbox, settings):  # noqa: F811  (the imported fixture, by name)
    """The sandbox, with the sync settings of ``SYNC_TEST_SETTINGS`` (quick retries)."""
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, **SYNC_TEST_SETTINGS}
    return sandbox


@pytest.fixture
def kollus(sandbox, settings):  # noqa: F811  (the imported fixture, by name)
    """The sandbox, with the Kollus rate limit lifted: the sandbox does not enforce one, and
    the shared limiter is tested with the client (``test_ratelimit.py``)."""
    settings.WAGTAIL_KOLLUS = sandbox.kollus_settings(
        KOLLUS_RATE_LIMIT_PER_SECOND=100, KOLLUS_RATE_LIMIT_PER_MINUTE=6000
    )
    return sandbox


@pytest.fixture
def redis_server(tmp_path):
    """A throwaway ``redis-server`` (Debian's) on a free port, for the tests that need a real
    shared cache or broker. Yields connection kwargs plus ``url``."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (Debian: apt-get install redis-server)")
    redis = pytest.importorskip("redis", reason="the 'redis' extra is not installed")
    with socket.socket() as probe:  # a free port for this xdist worker
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(tmp_path)]
    args += ["--save", "", "--appendonly", "no"]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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
    yield {"host": "127.0.0.1", "port": port, "db": 0, "url": f"redis://127.0.0.1:{port}/0"}
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def lesson(db):
    """A video page under the home page (modules that need another lesson define their own)."""
    from wagtail.models import Page

    from tests.testapp.models import VideoPage

    home = Page.objects.get(depth=2)
    return home.add_child(instance=VideoPage(title="Lesson 1", slug="lesson-1"))


@pytest.fixture
def member(django_user_model):
    """A signed-up learner with no group."""
    return django_user_model.objects.create_user("member", "m@example.com", "pw")
