"""Headless Chromium (Debian's, driven by Playwright) against the real Wagtail admin.

The live server is pytest-django's ``live_server`` (a thread in this process) so tests use
``transactional_db``. Playwright's sync API runs an event loop in this thread, which makes
Django's async-safety guard refuse ORM calls made from test code; the tests here are plain
synchronous code, so the guard is switched off for this directory only.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from wagtail_kollus.testing import point_callbacks_at, running_cluster

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("KOLLUS_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
    "--disable-dev-shm-usage",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "correct horse battery staple"


def pytest_collection_modifyitems(items):
    # Browser tests share one Chromium per xdist worker; keeping them on few workers avoids
    # two browsers fighting for the two cores.
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)
            # A module with a group of its own (the journey's demo) runs beside the others.
            if item.get_closest_marker("xdist_group") is None:
                item.add_marker(pytest.mark.xdist_group("browser"))


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}; run `make system-deps`.")
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="kollus-chromium-")
    with sync_playwright() as playwright:
        # Playwright manages the profile directory itself (launch_persistent_context is
        # the only way to choose it), so ``profile`` only holds crash dumps and caches.
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            headless=True,
            env={**os.environ, "HOME": profile},
        )
        yield browser
        browser.close()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(15_000)
    page = context.new_page()
    console_errors: list[str] = []
    page.on("pageerror", lambda exc: console_errors.append(str(exc)))
    page.console_errors = console_errors
    yield page
    if getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture
def admin_user(transactional_db, django_user_model):
    return django_user_model.objects.create_superuser(
        username=ADMIN_USERNAME, email="admin@example.com", password=ADMIN_PASSWORD
    )


def login(page, live_server_url: str, username: str, password: str) -> None:
    page.goto(f"{live_server_url}/admin/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server_url}/admin/")


@pytest.fixture
def sandbox_live(sandbox):
    """The sandbox, with the live server's settings pointing at it (the ``sandbox`` fixture
    already sets ``WAGTAIL_KOLLUS``; this name documents the intent in browser tests)."""
    return sandbox


@pytest.fixture
def admin_page(page, live_server, admin_user, sandbox_live):
    login(page, live_server.url, ADMIN_USERNAME, ADMIN_PASSWORD)
    return page


@pytest.fixture
def lifecycle(admin_page, sandbox_live, settings, live_server):
    """The logged-in admin page, with the sandbox's callbacks sent to the live server and a
    real django-q2 cluster processing them (uploads reach "ready")."""
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
