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

    # Search by title, then filter by category: each replaces the results in place. The
    # category is among the filters behind the "Filters" toggle.
    with page.expect_response(re.compile(r"/video-chooser/results/\?.*q=class")):
        modal.locator("#id_q").fill(SEARCH)
    modal.locator("summary", has_text="Filters").click()
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


# --- what the editor sees (issue 13): thumbnails, filters, failures, unplayable items, widget --
TAG_NAMES = {21: "Beginner", 25: "Best seller"}


def open_chooser(page, live_server):
    """A new video page with one video block, the chooser modal open on its listing."""
    home = Page.objects.get(depth=2)
    page.goto(f"{live_server.url}/admin/pages/add/testapp/videopage/{home.pk}/")
    page.locator("[data-streamfield-stream-container] button[title='Insert a block']").first.click()
    page.get_by_role("option", name="Kollus video").click()
    page.get_by_role("button", name="Choose a video").click()
    modal = page.locator(".modal-content")
    modal.locator("#search-results table").wait_for()
    return modal


def fully_visible_rows(page) -> int:
    return page.locator(".modal-content #search-results tbody tr").evaluate_all(
        "rows => rows.filter(r => { const b = r.getBoundingClientRect();"
        " return b.top >= 0 && b.bottom <= window.innerHeight; }).length"
    )


def box(locator) -> dict:
    return locator.evaluate(
        "e => { const b = e.getBoundingClientRect(); return {width: b.width, height: b.height,"
        " left: b.left, right: b.right, top: b.top, bottom: b.bottom}; }"
    )


def test_the_listing_shows_thumbnails_and_rows_above_the_fold(editor, live_server, settings):
    page = editor
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "CHOOSER_TAGS": TAG_NAMES}
    page.set_viewport_size({"width": 1400, "height": 900})
    modal = open_chooser(page, live_server)

    poster = modal.locator("#search-results img").first
    poster.evaluate("img => img.complete || new Promise(r => img.addEventListener('load', r))")
    assert poster.evaluate("img => img.naturalWidth") > 0
    assert box(poster)["width"] >= 60  # it used to load but render 0 px wide
    assert box(modal.locator("#search-results thead th").first)["width"] >= 60
    # The filters no longer push the results below the fold (one row was visible).
    assert fully_visible_rows(page) >= 5

    # The other filters are one click away; the tag is chosen by its name.
    modal.locator("#id_status").wait_for(state="hidden")
    modal.locator("summary", has_text="Filters").click()
    with page.expect_response(re.compile(r"/video-chooser/results/\?.*tag=25")):
        modal.locator("#id_tag").select_option(label="Best seller")
    assert page.console_errors == []


def test_a_failing_category_list_and_the_try_again_button(editor, live_server, big_sandbox):
    page = editor
    big_sandbox.faults.set("contents.categories", status=503)
    try:
        modal = open_chooser(page, live_server)
        # The listing and search work; the missing filter is explained.
        notice = modal.locator("[data-kollus-chooser-categories-notice]")
        assert "category filter is missing" in notice.inner_text()
        assert modal.locator("#search-results tbody tr").count() > 0
        with page.expect_response(re.compile(r"/video-chooser/results/\?.*q=class")):
            modal.locator("#id_q").fill(SEARCH)
        assert "data-kollus-chooser-error" not in modal.inner_html()

        # Now the listing itself fails: the "Try again" button shows its label.
        big_sandbox.faults.set("contents.list", status=503)
        with page.expect_response(re.compile(r"/video-chooser/results/\?.*q=clas&")):
            modal.locator("#id_q").fill("clas")
        button = modal.get_by_role("link", name="Try again")
        button.wait_for()
        icon, outline = box(button.locator("svg")), box(button)
        assert icon["width"] <= 24 and icon["height"] <= 24  # it was 300 x 150
        words = button.evaluate(
            "b => { const t = [...b.childNodes].find(n => n.nodeType === 3 && n.textContent.trim());"
            " const r = document.createRange(); r.selectNodeContents(t);"
            " const x = r.getBoundingClientRect();"
            " return {top: x.top, bottom: x.bottom, left: x.left, right: x.right}; }"
        )
        # The label sits inside the button, beside the icon (it was pushed out of sight).
        assert outline["top"] <= words["top"] and words["bottom"] <= outline["bottom"]
        assert icon["right"] <= words["left"] and words["right"] <= outline["right"]

        big_sandbox.faults.clear()
        button.click()
        modal.locator("#search-results table").wait_for()
    finally:
        big_sandbox.faults.clear()
    assert page.console_errors == []


def content_with_unplayable_item(sandbox: SandboxServer):
    client = contents_client()
    for number in range(1, 6):
        listing = client.list_contents(
            language="en", content_type="vod", search=SEARCH, page=number
        )
        for content in listing.items:
            items = content.chapter_items()
            playable = [i for i in items if i.kollus_media_content_key and i.duration_text]
            if any(i.kollus_media_content_key is None for i in items) and len(playable) >= 2:
                return content, playable[1]
    raise AssertionError("no content with a YouTube item and two playable ones")


def test_unplayable_items_are_disabled_and_the_chosen_video_shows_its_poster(
    editor, live_server, big_sandbox
):
    page = editor
    content, item = content_with_unplayable_item(big_sandbox)
    modal = open_chooser(page, live_server)
    with page.expect_response(re.compile(r"/video-chooser/results/\?.*q=")):
        modal.locator("#id_q").fill(content.title)
    modal.get_by_role("link", name=content.title, exact=True).click()
    modal.locator("[data-kollus-chooser-items]").wait_for()

    disabled = modal.locator("tr[data-kollus-not-choosable]").first
    assert disabled.get_attribute("aria-disabled") == "true"
    assert disabled.locator("a").count() == 0
    assert "hosted on YouTube, not on Kollus" in disabled.inner_text()
    choosable_title = modal.get_by_role("link", name=item.title, exact=True)
    style = "e => { const s = getComputedStyle(e); return [s.color, s.fontWeight]; }"
    assert disabled.locator(".title-wrapper").evaluate(style) != choosable_title.evaluate(style)

    choosable_title.click()
    modal.wait_for(state="detached")
    chooser = page.locator(".kollus-video-chooser").first
    poster = chooser.locator("[data-chooser-image]")
    poster.evaluate("img => img.complete || new Promise(r => img.addEventListener('load', r))")
    assert poster.is_visible() and poster.evaluate("img => img.naturalWidth") > 0
    assert box(poster)["width"] >= 100
    assert chooser.locator("[data-chooser-title]").inner_text() == item.title
    assert item.duration_text in chooser.locator("[data-chooser-details]").inner_text()

    chooser.get_by_role("button", name="Actions").click()
    preview_link = chooser.get_by_role("link", name="Preview video")
    video = KollusVideo.objects.get(content_id=content.content_id, item_id=item.item_id)
    assert preview_link.get_attribute("href").endswith(f"/video-chooser/preview/{video.pk}/")
    page.goto(f"{live_server.url}{preview_link.get_attribute('href')}")
    # Cache-safe: player.js fetches the player URL from the token endpoint and sets it.
    frame = page.locator(f"iframe[src^='{big_sandbox.player_url}']")
    frame.wait_for()
    assert frame.content_frame.locator(".title").inner_text() == item.title  # as a page shows it
    assert page.console_errors == []
