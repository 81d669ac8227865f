"""Helpers of the sync tests: settings that make retries quick, pushing a page now, and
reading back its link and remote record. Pages to sync come from ``tests/factories.py``."""

from __future__ import annotations

from tests.factories import publish
from tests.testapp.models import CoursePage
from wagtail_kollus.models import PageContentLink
from wagtail_kollus.sync.engine import sync_page
from wagtail_kollus.testing import wait_for

#: Merged into ``settings.WAGTAIL_KOLLUS`` by the ``synced`` fixtures: retries and coalescing
#: in fractions of a second, so the cluster tests finish quickly.
SYNC_TEST_SETTINGS = {
    "SYNC_DEFAULT_CATEGORY_IDS": [5],
    "SYNC_DEFAULT_FEATURED_IMAGE": "https://example.com/course.jpg",
    "SYNC_RETRY_BACKOFF": 0.2,
    "SYNC_RETRY_BACKOFF_MAX": 1.0,
    "SYNC_INLINE_RETRY_MAX": 5.0,
    "SYNC_CLAIM_SECONDS": 10.0,
    "SYNC_COALESCE_SECONDS": 0.3,
    "READ_TIMEOUT": 2.0,
}


def configure(settings, **overrides) -> None:
    """Override ``WAGTAIL_KOLLUS`` entries for one test (pytest-django's ``settings``)."""
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, **overrides}


def link_of(page) -> PageContentLink | None:
    return PageContentLink.objects.filter(page_key=page.pk).first()


def synced_link(page, version: int | None = None) -> PageContentLink:
    """Wait until a cluster has settled ``page`` (at least at ``version``); its link."""

    def done():
        link = link_of(page)
        settled = link and link.state in ("synced", "unlinked") and not link.is_outstanding
        if settled and (version is None or link.synced_version >= version):
            return link
        return None

    return wait_for(done, message=f"page {page.pk} did not sync: {link_of(page)!r}")


def push(page, capture) -> PageContentLink:
    """Sync ``page`` now, in this process (``capture``: django_capture_on_commit_callbacks)."""
    with capture(execute=True):
        sync_page(page.pk)
    return link_of(page)


def push_now(page, capture) -> PageContentLink:
    """Publish ``page``, then sync it now, in this process."""
    with capture(execute=True):
        publish(page)
    with capture(execute=True):
        sync_page(page.pk)
    return link_of(page)


def publish_and_push(page, capture, **changes) -> tuple[CoursePage, PageContentLink]:
    with capture(execute=True):
        page = publish(page, **changes)
    return page, push(page, capture)


def record_of(sandbox, link: PageContentLink) -> dict:
    """The sandbox's stored record of a synced page."""
    return sandbox.state.contents[link.content_id]
