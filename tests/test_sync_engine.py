"""The sync engine in this process (no cluster): mapping, signals, failures, admin, command.

Remote calls still go over HTTP to the sandbox; queuing is covered by test_sync_cluster.py.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.core.management import call_command
from django.urls import reverse
from wagtail.models import GroupPagePermission

from tests.factories import home, make_course, publish
from tests.sync_support import configure, link_of, push_now
from tests.testapp.models import CourseMapping, CoursePage, VideoPage
from wagtail_kollus.accounts import contents_client
from wagtail_kollus.models import ContentRecord, KollusVideo, PageContentLink
from wagtail_kollus.signals import content_synced, sync_failed
from wagtail_kollus.sync import ChapterGrouping, ContentMapping, get_mapping
from wagtail_kollus.sync.engine import sync_page
from wagtail_kollus.sync.panels import SyncStatusPanel

pytestmark = pytest.mark.django_db


@pytest.fixture
def received():
    events: list[tuple[str, dict]] = []

    def on_synced(sender, **kwargs):
        events.append(("synced", kwargs))

    def on_failed(sender, **kwargs):
        events.append(("failed", kwargs))

    content_synced.connect(on_synced)
    sync_failed.connect(on_failed)
    yield events
    content_synced.disconnect(on_synced)
    sync_failed.disconnect(on_failed)


# --- registry and mapping ---------------------------------------------------------------------
def test_registry_returns_the_registered_mapping_and_adds_the_status_panel():
    assert isinstance(get_mapping(CoursePage), CourseMapping)
    assert get_mapping(VideoPage) is None
    assert isinstance(CoursePage.content_panels[0], SyncStatusPanel)


def test_default_mapping_uses_an_absolute_rendition_url_and_one_chapter(settings):
    from wagtail.images.models import Image
    from wagtail.images.tests.utils import get_test_image_file

    settings.WAGTAILADMIN_BASE_URL = "https://cms.example.com"
    image = Image.objects.create(title="cover", file=get_test_image_file())
    first = KollusVideo.objects.create(title="One", media_content_key="mck-1", duration_seconds=5)
    second = KollusVideo.objects.create(title="Two", media_content_key="mck-2")
    page = make_course(
        image=image,
        body=[
            {"type": "heading", "value": "Part A"},
            {"type": "video", "value": {"video": first.pk}},
            {"type": "heading", "value": "Part B"},
            {"type": "video", "value": {"video": second.pk}},
        ],
    )
    single = ContentMapping(CoursePage)
    single.image_field = "image"
    payload = single.build_payload(CoursePage.objects.get(pk=page.pk))
    assert payload["featured_image"].startswith("https://cms.example.com/")
    assert [c["title"] for c in payload["chapters"]] == ["Python basics"]
    assert [i["media_url"] for i in payload["chapters"][0]["items"]] == ["mck-1", "mck-2"]
    by_heading = CourseMapping(CoursePage)
    assert by_heading.chapter_grouping is ChapterGrouping.BY_HEADING
    chapters = by_heading.build_payload(CoursePage.objects.get(pk=page.pk))["chapters"]
    assert [(c["title"], len(c["items"])) for c in chapters] == [("Part A", 1), ("Part B", 1)]


# --- signals and failures ---------------------------------------------------------------------
def test_content_synced_signal_carries_the_record(
    synced, received, django_capture_on_commit_callbacks
):
    link = push_now(make_course(), django_capture_on_commit_callbacks)
    assert link.state == "synced"
    [(kind, kwargs)] = [e for e in received if e[0] == "synced"]
    assert kwargs["content_id"] == link.content_id
    assert kwargs["action"] == "create"


def test_validation_error_sends_sync_failed_with_field_errors(
    synced, settings, received, django_capture_on_commit_callbacks
):
    configure(settings, SYNC_DEFAULT_CATEGORY_IDS=[999])
    link = push_now(make_course(), django_capture_on_commit_callbacks)
    assert link.state == "failed"
    [(kind, kwargs)] = received
    assert kind == "failed"
    assert "category_ids.0" in kwargs["error"]["field_errors"]
    assert kwargs["retryable"] is False


def test_unavailable_api_fails_after_the_retry_horizon(
    synced, settings, received, django_capture_on_commit_callbacks
):
    configure(settings, SYNC_RETRY_HORIZON=0)
    synced.faults.set("contents.create", status=503)
    link = push_now(make_course(), django_capture_on_commit_callbacks)
    assert link.state == "failed"
    assert "unavailable" in link.last_error.lower() or "503" in link.last_error
    assert received[0][1]["retryable"] is True


def test_api_key_never_appears_in_the_recorded_error(
    synced, settings, django_capture_on_commit_callbacks
):
    configure(settings, CONTENTS_API_KEY="wrong-key-0123456789")
    link = push_now(make_course(), django_capture_on_commit_callbacks)
    assert link.state == "failed"  # 401 is not retried
    assert "wrong-key-0123456789" not in link.last_error
    assert all("wrong-key" not in str(e.error) for e in link.log.all())


# --- editor and report ------------------------------------------------------------------------
def test_edit_view_shows_the_sync_state_and_message(
    admin_client, synced, settings, django_capture_on_commit_callbacks
):
    configure(settings, SYNC_DEFAULT_CATEGORY_IDS=[999])
    page = make_course()
    push_now(page, django_capture_on_commit_callbacks)
    html = admin_client.get(reverse("wagtailadmin_pages:edit", args=[page.pk])).content.decode()
    assert "Contents sync" in html
    assert 'data-kollus-sync-state="failed"' in html
    # The API's "The selected category_ids.0 is invalid.", told with the editor's words.
    assert "The selected “Categories (#1)” is invalid." in html


def test_retry_now_requeues_a_failed_page(
    admin_client, synced, settings, django_capture_on_commit_callbacks
):
    configure(settings, SYNC_DEFAULT_CATEGORY_IDS=[999])
    page = make_course()
    failed = push_now(page, django_capture_on_commit_callbacks)
    configure(settings, SYNC_DEFAULT_CATEGORY_IDS=[5])
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("wagtail_kollus_sync:retry", args=[page.pk]), HTTP_ACCEPT="application/json"
        )
    assert response.json()["state"] == "pending"
    assert (link_of(page).attempts, failed.attempts) == (0, 1)
    sync_page(page.pk)
    assert link_of(page).state == "synced"


@pytest.fixture
def editor_without_access(client):
    user = User.objects.create_user("visitor", password="pw", is_staff=True)
    group = Group.objects.create(name="no pages")
    group.permissions.add(Permission.objects.get(codename="access_admin"))
    user.groups.add(group)
    client.force_login(user)
    return client


def test_status_and_retry_need_edit_permission(
    editor_without_access, synced, django_capture_on_commit_callbacks
):
    page = make_course()
    push_now(page, django_capture_on_commit_callbacks)
    # Wagtail turns PermissionDenied in admin views into a redirect with a message.
    denied = (302, 403)
    status_url = reverse("wagtail_kollus_sync:status", args=[page.pk])
    assert editor_without_access.get(status_url).status_code in denied
    retry_url = reverse("wagtail_kollus_sync:retry", args=[page.pk])
    assert editor_without_access.post(retry_url).status_code in denied
    assert link_of(page).state == "synced"  # the refused retry changed nothing
    report_url = reverse("wagtail_kollus_sync:report")
    assert editor_without_access.get(report_url).status_code in denied


def test_page_editor_may_retry_but_not_see_the_report(
    client, synced, django_capture_on_commit_callbacks
):
    from wagtail.models import Page

    page = make_course()
    push_now(page, django_capture_on_commit_callbacks)
    user = User.objects.create_user("editor", password="pw", is_staff=True)
    group = Group.objects.create(name="editors")
    group.permissions.add(Permission.objects.get(codename="access_admin"))
    GroupPagePermission.objects.create(
        group=group,
        page=Page.get_first_root_node(),
        permission=Permission.objects.get(codename="change_page"),
    )
    user.groups.add(group)
    client.force_login(user)
    assert (
        client.get(reverse("wagtail_kollus_sync:status", args=[page.pk])).json()["state"]
        == "synced"
    )
    assert client.get(reverse("wagtail_kollus_sync:report")).status_code in (302, 403)


def test_report_lists_failed_pages_and_bulk_retries(
    admin_client, synced, settings, django_capture_on_commit_callbacks
):
    configure(settings, SYNC_DEFAULT_CATEGORY_IDS=[999])
    failing = make_course("Failing course")
    push_now(failing, django_capture_on_commit_callbacks)
    configure(settings, SYNC_DEFAULT_CATEGORY_IDS=[5])
    fine = make_course("Fine course")
    push_now(fine, django_capture_on_commit_callbacks)
    url = reverse("wagtail_kollus_sync:report")
    html = admin_client.get(url, {"state": "failed"}).content.decode()
    assert "Failing course" in html and "Fine course" not in html
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(url, {"page_key": [failing.pk]})
    assert link_of(failing).state == "pending"
    sync_page(failing.pk)
    assert link_of(failing).state == "synced"
    assert "Failing course" not in admin_client.get(url).content.decode()


# --- command ----------------------------------------------------------------------------------
def test_command_pushes_selected_pages_now_and_pulls_the_mirror(synced, capsys):
    page = make_course()
    CoursePage.objects.filter(pk=page.pk).update(live=True)
    call_command("kollus_sync", "--page", str(page.pk), "--now", "--no-progress")
    link = link_of(page)
    assert link.state == "synced" and link.content_id
    assert "synced: 1" in capsys.readouterr().out
    call_command("kollus_sync", "--pull", "--pause", "0")
    out = capsys.readouterr().out
    korean = {c["content_id"] for c in synced.state.contents.values() if "ko" in c["translations"]}
    # The page's own record is in its locale's language (en here), mirrored when it was created.
    assert link.content_id not in korean
    assert set(ContentRecord.objects.values_list("content_id", flat=True)) == {
        *korean,
        link.content_id,
    }
    assert ContentRecord.objects.get(content_id=link.content_id).language == "en"
    assert "record(s)" in out and "[" in out  # summary and progress bar


def test_command_rejects_a_type_that_does_not_sync(synced):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("kollus_sync", "--type", "testapp.VideoPage")


def test_a_long_backoff_leaves_no_schedule_row_and_the_sweep_requeues_the_page_once_due(
    synced, settings, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone
    from django_q.models import OrmQ, Schedule

    from wagtail_kollus.sweep import sweep

    configure(settings, SYNC_RETRY_BACKOFF=60.0, SYNC_RETRY_BACKOFF_MAX=600.0)
    synced.faults.set("contents.create", status=503)
    page = make_course()
    link = push_now(page, django_capture_on_commit_callbacks)
    assert link.state == "pending" and link.attempts == 1
    assert 55 <= (link.next_attempt_at - timezone.now()).total_seconds() <= 61
    # The retry is the row's next_attempt_at; nothing goes to django-q2's Schedule table
    # (one-off schedules stayed there after they ran: 45 rows after half an hour of use).
    assert not Schedule.objects.exists()
    # Not due yet: the sweep leaves it alone; once due, it queues it again (once).
    before = OrmQ.objects.count()
    assert sweep() == "queued 0 page sync(s) and 0 callback delivery(ies)"
    PageContentLink.objects.filter(pk=link.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )
    assert sweep() == "queued 1 page sync(s) and 0 callback delivery(ies)"
    assert [q.task["args"] for q in OrmQ.objects.all()[before:]] == [(page.pk,)]
    synced.faults.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert sync_page(page.pk) == "synced"
    assert not Schedule.objects.exists()


def test_create_view_explains_when_the_record_will_be_created(admin_client):
    url = reverse("wagtailadmin_pages:add", args=["testapp", "coursepage", home().pk])
    response = admin_client.get(url)
    assert response.status_code == 200
    assert "created when this page is first published" in response.content.decode()


# --- the baseline a write leaves --------------------------------------------------------------
def test_a_record_deleted_after_our_write_is_recreated_when_the_put_finds_nothing(
    synced, django_capture_on_commit_callbacks
):
    # Within a claim (a split burst) the PUT is sent on the baseline of our own last write,
    # without a conflict read; if the record vanished meanwhile, the page gets a new one.
    from wagtail_kollus.sync.engine import make_client, push

    page = make_course()
    link = push_now(page, django_capture_on_commit_callbacks)
    with synced.state.lock:
        del synced.state.contents[link.content_id]
    with django_capture_on_commit_callbacks(execute=False):
        publish(page, title="Python basics, again")
    synced._app.requests.clear()
    client = make_client()
    try:
        result = push(link_of(page), client, fresh_remote_stamp=link.remote_updated_at)
    finally:
        client.close()
    assert [e["endpoint"] for e in synced.requests] == ["contents.update", "contents.create"]
    assert result.operation == "create" and result.content_id != link.content_id
    assert synced.state.contents[result.content_id]["translations"]["en"]["title"] == (
        "Python basics, again"
    )
    assert link_of(page).content_id == result.content_id


def test_unpublishing_a_page_whose_record_was_deleted_creates_no_record_to_pause(
    synced, django_capture_on_commit_callbacks
):
    # The conflict read finds nothing: a live page would get a new record, but an unpublished
    # one would only get a paused record nobody asked for. Publishing again creates one.
    page = make_course()
    link = push_now(page, django_capture_on_commit_callbacks)
    with synced.state.lock:
        del synced.state.contents[link.content_id]
    with django_capture_on_commit_callbacks(execute=False):
        CoursePage.objects.get(pk=page.pk).unpublish()
    synced._app.requests.clear()
    with django_capture_on_commit_callbacks(execute=True):
        sync_page(page.pk)
    assert [e["endpoint"] for e in synced.requests] == ["contents.get"]
    assert link_of(page).content_id is None
    with django_capture_on_commit_callbacks(execute=True):
        publish(CoursePage.objects.get(pk=page.pk))
    with django_capture_on_commit_callbacks(execute=True):
        assert sync_page(page.pk) == "synced"
    assert link_of(page).content_id in synced.state.contents


@pytest.fixture
def price_as_text():
    """CoursePage's mapping sends its price as text; the API answers it as a number."""
    from wagtail_kollus.sync import register_sync

    class TextPriceMapping(CourseMapping):
        def get_base_price(self, page):
            return str(page.base_price)

    register_sync(CoursePage, TextPriceMapping, status_panel=False)
    yield
    register_sync(CoursePage, CourseMapping, status_panel=False)


@pytest.mark.usefixtures("price_as_text")
def test_a_value_the_api_normalised_is_not_mistaken_for_a_remote_edit(
    synced, django_capture_on_commit_callbacks
):
    from wagtail_kollus.models import SyncLogEntry

    page = make_course()
    link = push_now(page, django_capture_on_commit_callbacks)
    assert synced.state.contents[link.content_id]["base_price"] == 0  # sent "0"
    assert link.pushed_values["base_price"] == 0  # the baseline is the API's answer
    synced._app.requests.clear()
    link = push_now(CoursePage.objects.get(pk=page.pk), django_capture_on_commit_callbacks)
    assert synced.request_count("contents.*") == 0  # the diff still compares what we sent
    # Someone edits a field the page does not send: the record's updated_at moves, so the next
    # push compares values; the normalised price must not count as edited.

    contents_client().update_content(link.content_id, {"sale_price": 0})
    with django_capture_on_commit_callbacks(execute=True):
        publish(page, title="Python basics, revised")
    with django_capture_on_commit_callbacks(execute=True):
        sync_page(page.pk)
    update = SyncLogEntry.objects.filter(link=link, operation="update").get()
    assert update.fields == ["title"] and update.overwritten == {}


def test_a_task_follows_a_burst_only_while_django_q_would_let_it_run(settings, monkeypatch):
    import time

    from django_q.conf import Conf

    from wagtail_kollus.sync.engine import _time_left_to_follow

    configure(settings, SYNC_COALESCE_MAX=10.0)
    now = time.monotonic()
    monkeypatch.setattr(Conf, "TIMEOUT", 60)
    assert _time_left_to_follow(now)
    assert not _time_left_to_follow(now - 45)  # 45 s in: a follow and a settle may take 20 more
    monkeypatch.setattr(Conf, "TIMEOUT", 15)
    assert not _time_left_to_follow(now)
