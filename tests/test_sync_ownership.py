"""One record, one page: a contents API that reuses ids (it lost its data and numbers records
from the start again) must not make two pages write to one record.

The sandbox is reset over its control API, as a sandbox restarted without its state file.
"""

from __future__ import annotations

import pytest
import requests
from django.db import IntegrityError, transaction
from django.urls import reverse

from tests.factories import make_course, publish
from tests.sync_support import link_of, publish_and_push, push, push_now
from wagtail_kollus.models import PageContentLink
from wagtail_kollus.sync.engine import RecordOfAnotherPage, make_client, retry_now
from wagtail_kollus.sync.engine import push as push_once

pytestmark = pytest.mark.django_db


def restart_without_state(sandbox) -> None:
    """What the user did: the contents API forgot every record and numbers them anew."""
    response = requests.post(sandbox.base_url + "/_sandbox/reset", timeout=5)
    assert response.json() == {"reset": True}


def marker_of_record(content_id: int) -> str:
    """The create marker the API returns with the record (``GET /contents/{id}``)."""
    client = make_client()
    try:
        return client.get_content(content_id).raw["external_id"]
    finally:
        client.close()


def record_made_elsewhere(sandbox, marker: str) -> int:
    """A record another site's page created (its marker names a page this site lacks)."""
    client = make_client()
    try:
        created = client.create_content(
            {
                "content_type": "vod",
                "title": "Another site's course",
                "description_html": "<p>Not ours</p>",
                "category_ids": [5],
                "featured_image": "https://example.com/other.jpg",
                "language": "en",
                "external_id": marker,
            }
        )
    finally:
        client.close()
    return created.content_id


def test_the_database_refuses_two_links_on_one_record():
    PageContentLink.objects.create(page_key=901, content_id=4601)
    PageContentLink.objects.create(page_key=902, content_id=None)
    PageContentLink.objects.create(page_key=903, content_id=None)  # many without a record
    with pytest.raises(IntegrityError), transaction.atomic():
        PageContentLink.objects.create(page_key=904, content_id=4601)


def test_a_reused_id_goes_to_the_page_that_created_it_and_the_other_page_gets_a_new_record(
    synced, admin_client, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    home_page, home_link = publish_and_push(make_course("Home"), capture)
    lesson, lesson_link = publish_and_push(make_course("Lesson"), capture)
    assert home_link.content_id != lesson_link.content_id
    restart_without_state(synced)
    # The lesson's retry finds its record gone (404), creates a new one, which the restarted
    # API numbers like the home page's.
    lesson, lesson_link = publish_and_push(lesson, capture, title="Lesson (retried)")
    assert lesson_link.state == "synced"
    assert lesson_link.content_id == home_link.content_id

    home_link = link_of(home_page)
    assert home_link.content_id is None
    assert (home_link.state, home_link.is_outstanding) == ("pending", True)
    [entry] = home_link.log.filter(operation="displaced")
    assert entry.content_id == lesson_link.content_id
    html = admin_client.get(reverse("wagtailadmin_pages:edit", args=[home_page.pk])).content
    assert f"now belongs to page {lesson.pk}, which created it" in html.decode()

    # The home page's queued push creates its own record; the lesson's is left alone.
    home_link = push(home_page, capture)
    assert home_link.state == "synced"
    assert home_link.content_id not in (None, lesson_link.content_id)
    assert marker_of_record(home_link.content_id) == home_link.marker
    assert marker_of_record(lesson_link.content_id) == link_of(lesson).marker
    assert synced.state.contents[lesson_link.content_id]["translations"]["en"]["title"] == (
        "Lesson (retried)"
    )


def test_a_record_carrying_another_pages_marker_is_a_conflict_not_overwritten(
    synced, admin_client, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    page, link = publish_and_push(make_course("Home"), capture)
    restart_without_state(synced)
    taken = record_made_elsewhere(synced, "wagtail-kollus:999999:0123456789ab")
    assert taken == link.content_id

    page, link = publish_and_push(page, capture, title="Home (republished)")
    record = synced.state.contents[taken]
    assert record["translations"]["en"]["title"] == "Another site's course"  # not overwritten
    assert record["extra"]["external_id"] == "wagtail-kollus:999999:0123456789ab"
    assert (link.state, link.content_id) == ("failed", None)
    html = admin_client.get(reverse("wagtailadmin_pages:edit", args=[page.pk])).content.decode()
    assert f"Content #{taken} belongs to page 999999" in html
    assert "it was not changed" in html

    # What the message tells the editor to do: Retry now creates this page's own record.
    with capture(execute=True):
        retry_now(link)
    link = push(page, capture)
    assert link.state == "synced" and link.content_id not in (None, taken)
    assert synced.state.contents[link.content_id]["translations"]["en"]["title"] == (
        "Home (republished)"
    )


def test_a_put_without_a_conflict_read_checks_the_marker_in_its_answer(
    synced, django_capture_on_commit_callbacks
):
    # On the baseline of our own last write (a split burst) no GET precedes the PUT; the PUT's
    # answer is the whole record, so a reused id is still caught, at no extra request.
    page = make_course()
    link = push_now(page, django_capture_on_commit_callbacks)
    restart_without_state(synced)
    taken = record_made_elsewhere(synced, "wagtail-kollus:999999:0123456789ab")
    assert taken == link.content_id
    with django_capture_on_commit_callbacks(execute=False):
        publish(page, title="Python basics, again")
    synced._app.requests.clear()
    client = make_client()
    try:
        with pytest.raises(RecordOfAnotherPage) as raised:
            push_once(link_of(page), client, fresh_remote_stamp=link.remote_updated_at)
    finally:
        client.close()
    assert [e["endpoint"] for e in synced.requests] == ["contents.update"]
    assert "this push changed its title" in raised.value.message
    assert link_of(page).content_id is None  # Retry now creates this page's own record
