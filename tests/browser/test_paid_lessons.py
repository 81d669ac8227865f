"""Paid lessons in headless Chromium: a login-restricted lesson page, the sandbox's player
asking this site's play callback as Kollus would (kind 1, then 3), over real HTTP.

* a member opens the page and the video plays in full;
* an anonymous visitor served the page's HTML from a shared cache gets the refusal (or, with a
  preview length set, the preview window) and never the full video;
* the player URL copied from member A's page plays only as A in another browser, and counts
  toward A's streams: with two allowed, the third device is refused, naming the limit.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from wagtail.models import PageViewRestriction

from tests.learner_support import lesson_page, signed_in

pytestmark = pytest.mark.filterwarnings("ignore::jwt.InsecureKeyLengthWarning")

FRAME = "iframe.kollus-player__frame"


@pytest.fixture
def lesson(sandbox_live, live_server, transactional_db, settings):
    """A login-restricted lesson page with one video; the play callback set in 'the console'."""
    page = lesson_page(sandbox_live, live_server, settings, "Lesson 3", "lesson-3")
    PageViewRestriction.objects.create(page=page, restriction_type=PageViewRestriction.LOGIN)
    return page


@pytest.fixture
def member(transactional_db, django_user_model):
    return django_user_model.objects.create_user("learner", "l@example.com", "pw")


def sandbox_player(page):
    return page.frame_locator(FRAME).locator("[data-sandbox-player]")


@pytest.mark.browser
def test_a_member_plays_in_full_and_an_anonymous_visitor_never_does(
    browser, live_server, lesson, member, settings
):
    url = live_server.url + lesson.url
    member_context = signed_in(browser, live_server, member)
    try:
        page = member_context.new_page()
        page.goto(url)
        player = sandbox_player(page)
        expect(player).to_have_attribute("data-sandbox-player", "ok")
        expect(player).to_have_attribute("data-play", "full")
        member_cuid = player.get_attribute("data-cuid")
    finally:
        member_context.close()

    # Cache-safe playback: the lesson's copy a shared cache serves to anyone. The anonymous
    # visitor gets the policy's message, and no player URL at all.
    video = lesson.body[0].value["video"]
    cached = f"{live_server.url}/_tests/cached-player/?video={video.pk}&page={lesson.pk}"
    anonymous = browser.new_context()
    try:
        page = anonymous.new_page()
        page.goto(cached)
        block = page.locator("[data-kollus-player]")
        expect(block).to_have_attribute("data-kollus-state", "refused")
        expect(block.locator(".kollus-player__message")).to_have_text("Log in to watch this video.")
        assert page.locator(FRAME).get_attribute("src") is None

        # With a preview length, the same visitor watches the first 30 seconds only.
        settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "PLAYBACK_PREVIEW_SECONDS": 30}
        page.goto(cached)
        player = sandbox_player(page)
        expect(player).to_have_attribute("data-play", "preview")
        expect(player).to_have_attribute("data-play-section-end", "30")
        expect(page.frame_locator(FRAME).locator(".play-window")).to_contain_text("30 s only")
        assert player.get_attribute("data-cuid") != member_cuid
    finally:
        anonymous.close()


@pytest.mark.browser
def test_a_copied_player_url_plays_as_its_member_and_a_third_stream_is_refused(
    browser, live_server, lesson, member, settings
):
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "PLAYBACK_MAX_STREAMS": 2}
    url = live_server.url + lesson.url
    contexts = [signed_in(browser, live_server, member) for _ in range(2)]
    try:
        pages = [context.new_page() for context in contexts]
        for page in pages:
            page.goto(url)
            expect(sandbox_player(page)).to_have_attribute("data-play", "full")
        # A reload is the same browser: its device cookie (SameSite=None; Secure, and the
        # sandbox's plain-http copy) comes back from the cross-site iframe, so it counts once.
        pages[0].reload()
        expect(sandbox_player(pages[0])).to_have_attribute("data-play", "full")
        member_cuid = sandbox_player(pages[0]).get_attribute("data-cuid")
        copied = pages[0].locator(FRAME).get_attribute("src")

        # Member A's player URL, pasted in someone else's browser: it is A's third device.
        stranger = browser.new_context()
        contexts.append(stranger)
        page = stranger.new_page()
        page.goto(copied)
        refusal = page.locator("[data-sandbox-player]")
        expect(refusal).to_have_attribute("data-sandbox-player", "refused")
        expect(refusal.locator(".message")).to_contain_text("2 devices")

        # A stream that ended (its approval expired) frees a place; the copy then plays, as A.
        from wagtail_kollus.models import ApprovedPlay

        oldest = ApprovedPlay.objects.filter(cuid=member_cuid).order_by("pk").first()
        ApprovedPlay.objects.filter(pk=oldest.pk).update(expires_at="2000-01-01T00:00:00Z")
        page.goto(copied)
        expect(refusal).to_have_attribute("data-sandbox-player", "ok")
        assert refusal.get_attribute("data-cuid") == member_cuid
    finally:
        for context in contexts:
            context.close()


# --- player options (issue 16, item 5): what Kollus's player is asked to enforce ------------------


@pytest.mark.browser
def test_the_watermark_shows_each_members_own_code_also_on_a_shared_cached_page(
    browser, live_server, lesson, member, django_user_model, settings
):
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "PLAYER_WATERMARK": {"code": "email"}}
    other = django_user_model.objects.create_user("second", "second@example.com", "pw")
    video = lesson.body[0].value["video"]
    cached = f"{live_server.url}/_tests/cached-player/?video={video.pk}&page={lesson.pk}"
    for user in (member, other):
        context = signed_in(browser, live_server, user)
        try:
            page = context.new_page()
            # The lesson rendered for this member: the token is in the page.
            response = page.goto(live_server.url + lesson.url)
            assert user.email not in response.text()
            watermark = page.frame_locator(FRAME).locator(".watermark")
            expect(watermark).to_have_attribute("data-watermark", user.email)
            expect(watermark).to_be_visible()
            # The same copy for everyone (cached after the first member): each member's
            # token, from the token endpoint, draws their own address.
            response = page.goto(cached)
            assert member.email not in response.text() and other.email not in response.text()
            expect(page.frame_locator(FRAME).locator(".watermark")).to_have_attribute(
                "data-watermark", user.email
            )
        finally:
            context.close()


@pytest.mark.browser
def test_a_no_skip_blocks_player_reports_its_seekable_end(browser, live_server, lesson):
    from tests.testapp.models import VideoPage

    video = lesson.body[0].value["video"]
    training = lesson.get_parent().add_child(
        instance=VideoPage(
            title="Compliance",
            slug="compliance",
            body=[("video", {"video": video, "no_skip": True, "seekable_end": 30})],
        )
    )
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(live_server.url + training.url)
        player = sandbox_player(page)
        expect(player).to_have_attribute("data-play", "full")
        expect(player).to_have_attribute("data-seek", "false")
        expect(player).to_have_attribute("data-seekable-end", "30")
        expect(page.frame_locator(FRAME).locator(".seekable-end")).to_contain_text("30")
    finally:
        context.close()
