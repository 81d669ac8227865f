"""An editor chooses a Kollus video in the page editor, publishes, and the page plays it.

Real parts end to end: headless Chromium drives the Wagtail admin on pytest-django's live
server; the chooser talks HTTP to a sandbox seeded with enough contents to page a filtered
search; the published page embeds the sandbox player, which shows the chosen item's title.
"""

from __future__ import annotations

import re

import pytest
from django.core.cache import caches
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from wagtail.models import Page

from wagtail_kollus.accounts import contents_client
from wagtail_kollus.models import KollusVideo
from wagtail_kollus.sandbox.testing import SandboxServer

SEARCH = "class"  # every English seed title ends with "class #N"
CATEGORY_ID = 1  # "디자인 Design": enough English VOD contents for two pages


@pytest.fixture(scope="module")
def big_sandbox():
    server = SandboxServer(contents=1500).start()
    yield server
    server.stop()


@pytest.fixture
def editor(admin_page, big_sandbox, settings):
    # The page is created under the home page, whose locale is English: the chooser lists
    # English contents by default.
    settings.WAGTAIL_KOLLUS = big_sandbox.kollus_settings()
    caches["default"].clear()
    return admin_page


def pick_target(sandbox: SandboxServer):
    """A content on page 2 of the filtered search with several Kollus items, and one item."""
    client = contents_client()
    page_two = client.list_contents(
        language="en", content_type="vod", search=SEARCH, category_id=CATEGORY_ID, page=2
    )
    assert page_two.items, "the sandbox must fill two pages for this test to mean anything"
    for content in page_two.items:
        items = [i for i in content.chapter_items() if i.kollus_media_content_key]
        if len(items) >= 3:
            return content, items[1]
    raise AssertionError("no multi-item content on page 2")


def wagtail_autosaves() -> bool:
    """Whether this Wagtail autosaves the editor (it ships the autosave indicator then)."""
    try:
        get_template("wagtailadmin/shared/autosave/indicator.html")
    except TemplateDoesNotExist:
        return False
    return True


def test_editor_chooses_a_video_and_the_published_page_plays_it(editor, live_server, big_sandbox):
    page = editor
    home = Page.objects.get(depth=2)
    content, item = pick_target(big_sandbox)

    page.goto(f"{live_server.url}/admin/pages/add/testapp/videopage/{home.pk}/")
    page.fill("#id_title", "Kollus")  # finished below, once the editor's scripts surely run
    page.locator("[data-streamfield-stream-container] button[title='Insert a block']").first.click()
    page.get_by_role("option", name="Kollus video").click()
    page.get_by_role("button", name="Choose a video").click()

    modal = page.locator(".modal-content")
    modal.locator("#search-results table").wait_for()
    assert "data-kollus-chooser-error" not in modal.inner_html()

    # Search by title, then filter by category: each replaces the results in place.
    with page.expect_response(re.compile(r"/video-chooser/results/\?.*q=class")):
        modal.locator("#id_q").fill(SEARCH)
    with page.expect_response(re.compile(r"/video-chooser/results/\?.*category=1")):
        modal.locator("#id_category").select_option(str(CATEGORY_ID))

    # Page 2 of the filtered search.
    with page.expect_response(re.compile(r"/video-chooser/results/\?.*category=1.*p=2")):
        modal.locator(".pagination a", has_text="2").first.click()
    modal.get_by_role("link", name=content.title, exact=True).wait_for()

    # Open the content, then pick one exact video item.
    modal.get_by_role("link", name=content.title, exact=True).click()
    modal.locator("[data-kollus-chooser-items]").wait_for()
    modal.get_by_role("link", name=item.title, exact=True).click()
    modal.wait_for(state="detached")

    chosen = page.locator("[data-chooser-title]").first
    assert chosen.inner_text().strip() == item.title

    # Wagtail 8 autosaves a new page as a draft and moves the editor to its edit URL;
    # publishing before that would post a second "create". Wagtail 7.0 has no autosave: the
    # editor stays on the create view and publishes from there.
    # Typing the rest of the title now gives the autosave a change it cannot miss: on a busy
    # machine the first fill can land before its change tracking starts, and choosing a video
    # alone did not always count as a change (no autosave, the test waited in vain).
    title = page.locator("#id_title")
    title.press("End")
    title.press_sequentially(" flow")
    if wagtail_autosaves():
        page.wait_for_url(re.compile(r"/admin/pages/\d+/edit/"))

    # Publish (in the save button's menu).
    page.locator(".w-dropdown-button").get_by_role("button", name="More actions").click()
    page.locator("button[name='action-publish']").click()
    page.wait_for_url(re.compile(r"/admin/pages/\d+/"))
    assert page.console_errors == []

    published = Page.objects.get(title="Kollus flow", live=True).specific
    video = KollusVideo.objects.get(content_id=content.content_id, item_id=item.item_id)
    assert video.language == "en"
    assert [block.value.video.pk for block in published.body] == [video.pk]
    page.goto(f"{live_server.url}{published.url}")
    frame_element = page.locator("iframe").first
    assert frame_element.get_attribute("src").startswith(big_sandbox.player_url)
    frame = frame_element.content_frame
    assert frame.locator(".title").inner_text() == item.title
