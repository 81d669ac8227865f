"""When a retried create first searches for its marker (docs/sync.md, "Nothing duplicated").

Only when an earlier POST may have reached the API: its answer was lost, or a 5xx. A POST that
never left (connection refused) or that the API answered it refused (429, 422) is simply sent
again: after an outage, a title search per page would be a full-text query per page the API
never saw. In this process (``sync_page``), over HTTP to the sandbox.
"""

from __future__ import annotations

import socket

import pytest
from django.utils import timezone

from tests.factories import make_course, publish
from tests.sync_support import configure, link_of, push, push_now
from wagtail_kollus.models import PageContentLink, SyncLogEntry
from wagtail_kollus.sandbox.testing import SandboxServer
from wagtail_kollus.sweep import sweep
from wagtail_kollus.sync.engine import retry_now
from wagtail_kollus.testing import running_cluster, wait_for

pytestmark = pytest.mark.django_db


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def unreachable_url(sandbox) -> str:
    """The contents API's URL on a port nobody listens on: connections are refused."""
    return sandbox.contents_api_url.replace(sandbox.base_url, f"http://127.0.0.1:{free_port()}")


def retry_when_due(page, capture):
    """Run the page's next attempt once its backoff is over (what the sweep would queue)."""
    due = link_of(page).next_attempt_at
    wait_for(lambda: timezone.now() >= due, timeout=5, message="the backoff did not end")
    return push(page, capture)


def records_of(sandbox, link) -> list[dict]:
    return [
        c for c in sandbox.state.contents.values() if c["extra"].get("external_id") == link.marker
    ]


def test_create_refused_while_the_api_was_down_is_sent_again_without_a_search(
    synced, settings, django_capture_on_commit_callbacks
):
    # Waits go on the row (the sweep's job), so the test can bring the API back between tries.
    configure(settings, SYNC_INLINE_RETRY_MAX=0, CONTENTS_API_URL=unreachable_url(synced))
    page = make_course()
    down = push_now(page, django_capture_on_commit_callbacks)
    assert (down.state, down.content_id) == ("pending", None)
    assert "could not be reached" in down.last_error
    down = retry_when_due(page, django_capture_on_commit_callbacks)
    assert (down.state, down.attempts) == ("pending", 2)

    configure(settings, CONTENTS_API_URL=synced.contents_api_url)
    link = retry_when_due(page, django_capture_on_commit_callbacks)
    assert link.state == "synced"
    assert [e["endpoint"] for e in synced.requests] == ["contents.create"]
    assert [r["content_id"] for r in records_of(synced, link)] == [link.content_id]


@pytest.mark.parametrize(
    ("fault", "searches"),
    [
        ({"status": 429}, 0),  # a refusal: nothing was created
        ({"status": 503}, 1),  # may have been applied before the server failed
        ({"reset": True}, 1),  # the POST was sent, the connection dropped: answer lost
    ],
)
def test_a_retried_create_searches_only_when_the_first_post_may_have_landed(
    synced, fault, searches, django_capture_on_commit_callbacks
):
    synced.faults.set("contents.create", times=1, **fault)
    link = push_now(make_course(), django_capture_on_commit_callbacks)
    assert link.state == "synced"
    assert synced.request_count("contents.list") == searches
    assert synced.request_count("contents.create") == 2
    assert [r["content_id"] for r in records_of(synced, link)] == [link.content_id]


def test_retry_now_after_a_refused_payload_creates_without_a_search(
    synced, settings, django_capture_on_commit_callbacks
):
    configure(settings, SYNC_DEFAULT_CATEGORY_IDS=[999])
    page = make_course()
    refused = push_now(page, django_capture_on_commit_callbacks)
    assert refused.state == "failed"  # the API answered 422: nothing was created
    configure(settings, SYNC_DEFAULT_CATEGORY_IDS=[5])
    with django_capture_on_commit_callbacks(execute=True):
        retry_now(refused)
    link = push(page, django_capture_on_commit_callbacks)
    assert link.state == "synced"
    assert [e["endpoint"] for e in synced.requests] == ["contents.create", "contents.create"]


def test_a_lost_answer_is_still_searched_for_after_an_outage(
    synced, settings, django_capture_on_commit_callbacks
):
    # The first POST created the record but its answer never came (read timeout); then the
    # API was down. The refused attempt proves nothing about the first one: the retry that
    # reaches the API must still find the record, not create a second one.
    configure(settings, SYNC_INLINE_RETRY_MAX=0, READ_TIMEOUT=0.5)
    synced.faults.set("contents.create", commit_then_timeout=2, times=1)
    page = make_course()
    lost = push_now(page, django_capture_on_commit_callbacks)
    assert (lost.state, lost.content_id) == ("pending", None)

    configure(settings, CONTENTS_API_URL=unreachable_url(synced))
    down = retry_when_due(page, django_capture_on_commit_callbacks)
    assert "could not be reached" in down.last_error

    configure(settings, CONTENTS_API_URL=synced.contents_api_url)
    link = retry_when_due(page, django_capture_on_commit_callbacks)
    assert link.state == "synced"
    assert synced.request_count("contents.create") == 1
    assert synced.request_count("contents.list") == 1
    assert [r["content_id"] for r in records_of(synced, link)] == [link.content_id]
    assert SyncLogEntry.objects.filter(link=link, operation="adopt").count() == 1


@pytest.mark.cluster
@pytest.mark.django_db(transaction=True)
def test_a_bulk_sync_through_an_outage_costs_no_searches(synced, settings):
    # The user's trial, in small: the contents API is down (nothing listens on its port) while
    # a cluster syncs a batch of new pages, then it comes back and the sweep queues the due
    # retries. Every POST of the outage was refused before it left: no page searches.
    pages = 8
    port = free_port()
    configure(
        settings,
        SYNC_INLINE_RETRY_MAX=0,
        CONTENTS_API_URL=synced.contents_api_url.replace(
            synced.base_url, f"http://127.0.0.1:{port}"
        ),
    )
    courses = [make_course(title=f"Course {number}") for number in range(pages)]
    links = PageContentLink.objects.filter(page_key__in=[c.pk for c in courses])
    api = SandboxServer(port=port)
    try:
        with running_cluster():
            for course in courses:
                publish(course)
            wait_for(
                lambda: links.filter(last_error__contains="could not be reached").count() == pages,
                message="the pages were not all tried while the API was down",
            )
            api.start()

            def swept_and_synced() -> bool:
                sweep()  # what the schedule does every minute: queue the due retries
                return links.filter(state="synced").count() == pages

            wait_for(swept_and_synced, interval=0.5, message="the pages did not sync")
        assert api.request_count("contents.list") == 0
        assert api.request_count("contents.create") == pages
        created = [c for c in api.state.contents.values() if c["extra"].get("external_id")]
        assert sorted(c["content_id"] for c in created) == sorted(
            links.values_list("content_id", flat=True)
        )
    finally:
        api.stop()
