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
from tests.testapp.models import CoursePage
from wagtail_kollus.models import PageContentLink
from wagtail_kollus.sync.engine import (
    RecordOfAnotherPage,
    make_client,
    new_marker,
    retry_now,
    sync_page,
)
from wagtail_kollus.sync.engine import push as push_once

pytestmark = pytest.mark.django_db


def restart_without_state(sandbox) -> None:
    """What the user did: the contents API forgot every record and numbers them anew (a
    stateless sandbox restarted so before it numbered each run from its start time; now the
    sandbox's id-reusing reset, a fault no real API has but a restored backup could)."""
    response = requests.post(sandbox.base_url + "/_sandbox/reset?reuse_ids=1", timeout=5)
    assert response.json() == {"reset": True}


def marker_of_record(content_id: int) -> str:
    """The create marker the API returns with the record (``GET /contents/{id}``)."""
    client = make_client()
    try:
        return client.get_content(content_id).raw["external_id"]
    finally:
        client.close()


def record_made_elsewhere(sandbox, marker: str, **fields) -> int:
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
                **fields,
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


# --- the pause of an unpublish or a delete --------------------------------------------------
def lessons_record_at_the_home_pages_id(sandbox, capture) -> tuple[CoursePage, int, int]:
    """The home page synced; then the API reused its record's id for the lesson's live record.

    The lesson's record was made by a copy of this site sharing the contents API (a staging
    site, or this site before its database was restored), so no link here holds it and no
    create of ours displaced the home page's link: the home page's link still holds the id.
    Returns the home page, the id and the lesson page's key.
    """
    home_page, home_link = publish_and_push(make_course("Home"), capture)
    lesson = make_course("Lesson")
    restart_without_state(sandbox)
    taken = record_made_elsewhere(sandbox, new_marker(lesson.pk), title="Lesson", status="publish")
    assert taken == home_link.content_id
    sandbox._app.requests.clear()
    return home_page, taken, lesson.pk


def test_unpublishing_a_page_leaves_another_pages_record_at_its_id_alone(
    synced, admin_client, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    home_page, taken, lesson_key = lessons_record_at_the_home_pages_id(synced, capture)
    with capture(execute=False):
        CoursePage.objects.get(pk=home_page.pk).unpublish()
    link = push(home_page, capture)

    # The conflict read the unpublish makes anyway saw the lesson's marker: no write.
    assert [e["endpoint"] for e in synced.requests] == ["contents.get"]
    record = synced.state.contents[taken]
    assert record["status"] == "publish"
    assert record["translations"]["en"]["title"] == "Lesson"
    assert (link.state, link.content_id) == ("failed", None)
    html = admin_client.get(reverse("wagtailadmin_pages:edit", args=[home_page.pk])).content
    html = html.decode()
    assert f"Content #{taken} belongs to page {lesson_key}" in html
    assert "so it was not paused" in html
    assert "publishing it again creates its own record" in html

    # Nothing is retried against the lesson's record; publishing again creates the home page's.
    with capture(execute=True):
        retry_now(link)
    link = push(home_page, capture)
    assert (link.state, link.content_id) == ("synced", None)
    with capture(execute=True):
        publish(home_page)
    link = push(home_page, capture)
    assert link.state == "synced" and link.content_id not in (None, taken)
    assert synced.state.contents[taken]["status"] == "publish"


def test_deleting_a_page_leaves_another_pages_record_at_its_id_alone(
    synced, admin_client, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    home_page, taken, lesson_key = lessons_record_at_the_home_pages_id(synced, capture)
    with capture(execute=False):
        CoursePage.objects.get(pk=home_page.pk).delete()
    with capture(execute=True):
        sync_page(home_page.pk)

    assert synced.state.contents[taken]["status"] == "publish"
    # A delete reads the record before pausing it (the one request it adds): no write.
    assert [e["endpoint"] for e in synced.requests] == ["contents.get"]
    link = PageContentLink.objects.get(page_key=home_page.pk)
    assert (link.state, link.content_id) == ("failed", None)
    report = admin_client.get(reverse("wagtail_kollus_sync:report")).content.decode()
    assert f"Content #{taken} belongs to page {lesson_key}" in report
    assert "so it was not paused. This deleted page was unlinked from it." in report

    # Retry now (the report's) unlinks it, still without touching the lesson's record.
    with capture(execute=True):
        retry_now(link)
    with capture(execute=True):
        sync_page(home_page.pk)
    assert PageContentLink.objects.get(page_key=home_page.pk).state == "unlinked"
    assert synced.request_count("contents.update") == 0


def test_deleting_a_page_pauses_its_own_record_after_reading_it(
    synced, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    page, link = publish_and_push(make_course(), capture)
    synced._app.requests.clear()
    with capture(execute=False):
        CoursePage.objects.get(pk=page.pk).delete()
    with capture(execute=True):
        sync_page(page.pk)
    assert [e["endpoint"] for e in synced.requests] == ["contents.get", "contents.update"]
    assert synced.state.contents[link.content_id]["status"] == "paused"
    assert PageContentLink.objects.get(page_key=page.pk).state == "unlinked"


def test_deleting_a_page_whose_record_is_gone_unlinks_it_without_a_write(
    synced, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    page, link = publish_and_push(make_course(), capture)
    assert requests.post(synced.base_url + "/_sandbox/reset", timeout=5).ok  # record gone
    synced._app.requests.clear()
    with capture(execute=False):
        CoursePage.objects.get(pk=page.pk).delete()
    with capture(execute=True):
        sync_page(page.pk)
    assert [e["endpoint"] for e in synced.requests] == ["contents.get"]
    assert PageContentLink.objects.get(page_key=page.pk).state == "unlinked"


def test_a_pause_without_a_read_before_it_says_it_changed_the_other_pages_record(
    synced, django_capture_on_commit_callbacks
):
    # An unpublish on the baseline of our own last write (a split burst) makes no read before
    # its PUT: the answer still tells whose record it was, and the editor what to check.
    capture = django_capture_on_commit_callbacks
    page = make_course()
    link = push_now(page, capture)
    restart_without_state(synced)
    taken = record_made_elsewhere(synced, "wagtail-kollus:999999:0123456789ab")
    assert taken == link.content_id
    with capture(execute=False):
        CoursePage.objects.get(pk=page.pk).unpublish()
    client = make_client()
    try:
        with pytest.raises(RecordOfAnotherPage) as raised:
            push_once(link_of(page), client, fresh_remote_stamp=link.remote_updated_at)
    finally:
        client.close()
    assert "this push changed its status" in raised.value.message
    assert "check that record on the contents site" in raised.value.message
    assert "Retry now" not in raised.value.message  # it would not create a record: unpublished
    assert link_of(page).content_id is None
