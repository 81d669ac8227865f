"""A page with a title and a video makes a record the contents API accepts, or the editor is
told before publishing what it would lack; the system check names what no page can fill.

``VideoPage`` (a title and a StreamField, like the README's ``LessonPage``) is registered
with the default mapping for these tests only.
"""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.urls import reverse
from wagtail.admin.panels.model_utils import get_edit_handler
from wagtail.models import Page

from tests.sync_support import configure, link_of
from tests.testapp.models import CoursePage, VideoPage
from wagtail_kollus.models import KollusVideo
from wagtail_kollus.sync import ContentMapping, register_sync
from wagtail_kollus.sync.checks import check_sync_mappings
from wagtail_kollus.sync.engine import sync_page
from wagtail_kollus.sync.registry import unregister_sync

pytestmark = pytest.mark.django_db

IMAGE = "https://example.com/lesson.png"


def _forget_edit_handlers(model) -> None:
    model.get_edit_handler.cache_clear()
    get_edit_handler.cache_clear()


@pytest.fixture
def lessons_sync():
    """VideoPage synced with the default mapping, as the README registers LessonPage."""
    panels = VideoPage.content_panels
    register_sync(VideoPage)
    _forget_edit_handlers(VideoPage)
    yield
    unregister_sync(VideoPage)
    VideoPage.content_panels = panels
    _forget_edit_handlers(VideoPage)


def lesson(title="First lesson", **fields) -> VideoPage:
    video = KollusVideo.objects.create(title="Lesson video", media_content_key="mck-lesson")
    page = VideoPage(title=title, body=[("video", {"video": video})], live=False, **fields)
    Page.objects.get(depth=2).add_child(instance=page)
    return page


def push(page, capture):
    with capture(execute=True):
        publish_video_page(page)
    with capture(execute=True):
        sync_page(page.pk)
    return link_of(page)


def publish_video_page(page):
    VideoPage.objects.get(pk=page.pk).save_revision().publish()


def ids(messages) -> list[tuple[str, str]]:
    return [(m.id, m.msg) for m in messages]


# --- the default mapping fills what the API requires ----------------------------------------
def test_a_title_and_a_video_make_a_record_the_api_accepts(
    lessons_sync, sandbox, settings, django_capture_on_commit_callbacks
):
    configure(settings, SYNC_DEFAULT_CATEGORY_IDS=[5], SYNC_DEFAULT_FEATURED_IMAGE=IMAGE)
    page = lesson()

    link = push(page, django_capture_on_commit_callbacks)

    assert link.state == "synced", (link.last_error, link.field_errors)
    record = sandbox.state.render_content(sandbox.state.contents[link.content_id])
    assert record["description_html"] == "<p></p>"
    assert record["category_ids"] == [5] and record["featured_image"] == IMAGE
    assert record["chapters"][0]["items"][0]["media_url"] == "mck-lesson"


def test_the_search_description_becomes_the_description(
    lessons_sync, sandbox, settings, django_capture_on_commit_callbacks
):
    configure(settings, SYNC_DEFAULT_CATEGORY_IDS=[5], SYNC_DEFAULT_FEATURED_IMAGE=IMAGE)
    page = lesson(search_description="Learn <b>fast</b> & well")

    link = push(page, django_capture_on_commit_callbacks)

    record = sandbox.state.render_content(sandbox.state.contents[link.content_id])
    assert record["description_html"] == "<p>Learn &lt;b&gt;fast&lt;/b&gt; &amp; well</p>"


def test_an_empty_rich_text_description_falls_back(settings):
    page = CoursePage(title="Course", intro="<p> </p>", search_description="In short")
    assert ContentMapping(CoursePage).get_description_html(page) == "<p>In short</p>"
    page.intro = '<p>Real <a href="https://example.com">text</a></p>'
    assert "Real" in ContentMapping(CoursePage).get_description_html(page)


# --- the system check ----------------------------------------------------------------------
def test_the_check_names_required_fields_no_page_can_fill(lessons_sync, settings):
    configure(settings, SYNC_DEFAULT_CATEGORY_IDS=[], SYNC_DEFAULT_FEATURED_IMAGE="")

    messages = [m for m in check_sync_mappings() if m.obj is VideoPage]

    assert [m.id for m in messages] == ["wagtail_kollus.W010", "wagtail_kollus.W010"]
    assert "'category_ids'" in messages[0].msg and "SYNC_DEFAULT_CATEGORY_IDS" in messages[0].hint
    assert "'featured_image'" in messages[1].msg and "SYNC_DEFAULT_FEATURED_IMAGE" in messages[1].hint
    # CoursePage reads its image from a field: only its categories are unfillable.
    course = [m.msg for m in check_sync_mappings() if m.obj is CoursePage]
    assert len(course) == 1 and "'category_ids'" in course[0]

    configure(settings, SYNC_DEFAULT_CATEGORY_IDS=[5], SYNC_DEFAULT_FEATURED_IMAGE=IMAGE)
    assert [m for m in check_sync_mappings() if m.obj in (VideoPage, CoursePage)] == []


def test_manage_py_check_reports_it(lessons_sync, settings, capsys):
    configure(settings, SYNC_DEFAULT_CATEGORY_IDS=[], SYNC_DEFAULT_FEATURED_IMAGE="")
    call_command("check")
    assert "wagtail_kollus.W010" in capsys.readouterr().err


def test_a_mapping_naming_a_missing_field_is_an_error():
    class Typo(ContentMapping):
        image_field = "imgae"

    register_sync(VideoPage, Typo, status_panel=False)
    try:
        errors = [m for m in check_sync_mappings() if m.obj is VideoPage]
    finally:
        unregister_sync(VideoPage)
    assert [m.id for m in errors if m.id.startswith("wagtail_kollus.E")] == ["wagtail_kollus.E010"]
    assert "'imgae'" in errors[0].msg


# --- the editor is told before publishing --------------------------------------------------
def test_the_panel_says_what_the_record_would_lack(lessons_sync, admin_client, settings):
    configure(settings, SYNC_DEFAULT_CATEGORY_IDS=[], SYNC_DEFAULT_FEATURED_IMAGE="")
    page = lesson()
    add_url = reverse("wagtailadmin_pages:add", args=("testapp", "videopage", page.get_parent().pk))

    for url in (reverse("wagtailadmin_pages:edit", args=[page.pk]), add_url):
        html = admin_client.get(url).content.decode()
        assert "data-kollus-sync-missing" in html, url
        assert 'data-kollus-sync-missing-field="category_ids"' in html
        assert 'data-kollus-sync-missing-field="featured_image"' in html
        assert 'data-kollus-sync-missing-field="description_html"' not in html
        # The page form asks for the title itself (a new page has none yet).
        assert 'data-kollus-sync-missing-field="title"' not in html
        assert "ask your site&#x27;s developer" in html or "ask your site's developer" in html
        # Help, not a form error: Wagtail would count an error message against the tab.
        missing = html[html.index("data-kollus-sync-missing") :][:1500]
        assert "error-message" not in missing

    configure(settings, SYNC_DEFAULT_CATEGORY_IDS=[5], SYNC_DEFAULT_FEATURED_IMAGE=IMAGE)
    html = admin_client.get(reverse("wagtailadmin_pages:edit", args=[page.pk])).content.decode()
    assert "data-kollus-sync-missing" not in html


def test_a_field_the_editor_can_fill_is_named(admin_client, settings):
    configure(settings, SYNC_DEFAULT_CATEGORY_IDS=[5], SYNC_DEFAULT_FEATURED_IMAGE="")
    course = CoursePage(title="Course", intro="<p>Intro</p>", live=False)
    Page.objects.get(depth=2).add_child(instance=course)

    html = admin_client.get(reverse("wagtailadmin_pages:edit", args=[course.pk])).content.decode()

    assert 'data-kollus-sync-missing-field="featured_image"' in html
    assert "Fill in “Image” before publishing." in html


def test_once_the_record_exists_nothing_is_said(
    lessons_sync, sandbox, admin_client, settings, django_capture_on_commit_callbacks
):
    configure(settings, SYNC_DEFAULT_CATEGORY_IDS=[5], SYNC_DEFAULT_FEATURED_IMAGE=IMAGE)
    page = lesson()
    assert push(page, django_capture_on_commit_callbacks).content_id
    # The defaults go away: a PUT sends only what changed, so the record still updates.
    configure(settings, SYNC_DEFAULT_CATEGORY_IDS=[], SYNC_DEFAULT_FEATURED_IMAGE="")
    html = admin_client.get(reverse("wagtailadmin_pages:edit", args=[page.pk])).content.decode()
    assert "data-kollus-sync-missing" not in html
