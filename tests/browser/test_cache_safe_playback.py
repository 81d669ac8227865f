"""Cache-safe playback in headless Chromium: a page served from Django's cache still plays,
each visitor gets their own token, and unstarted players refresh while started ones do not.

The page is ``tests.testapp.views.cached_player_page`` behind ``cache_page``; its
``data-rendered`` nonce changes on every real render, which proves a response came from the
cache. The iframe's player page is the sandbox's, which verifies the JWT as Kollus does.
"""

from __future__ import annotations

import re
import time

import pytest
import requests
from playwright.sync_api import expect

pytestmark = pytest.mark.filterwarnings("ignore::jwt.InsecureKeyLengthWarning")

PLAYER = "[data-kollus-player]"
FRAME = "iframe.kollus-player__frame"


def ready_media(sandbox) -> tuple[str, str]:
    with sandbox.state.lock:
        for media in sandbox.state.media.values():
            if media["channels"]:
                return media["channels"][0]["media_content_key"], media["title"]
    raise AssertionError("the sandbox seed has no playable media")


def page_url(live_server, key: str, case: str) -> str:
    # ``case`` gives each test its own cache entry (the cache key is the full URL).
    return f"{live_server.url}/_tests/cached-player/?key={key}&case={case}"


def rendered_nonce(html: str) -> str:
    return re.search(r'data-rendered="(\w+)"', html).group(1)


def wait_until_playing(page, title: str) -> dict[str, str]:
    """Wait for the sandbox player inside the iframe; return its data attributes."""
    expect(page.locator(PLAYER)).to_have_attribute("data-kollus-state", "ready")
    sandbox_player = page.frame_locator(FRAME).locator("[data-sandbox-player]")
    expect(sandbox_player).to_have_attribute("data-sandbox-player", "ok")
    expect(sandbox_player).to_have_attribute("data-title", title)
    return {
        "cuid": sandbox_player.get_attribute("data-cuid"),
        "src": page.locator(FRAME).get_attribute("src"),
    }


def set_token_lifetime(settings, seconds: int) -> None:
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "PLAYER_TOKEN_LIFETIME": seconds}


@pytest.mark.browser
def test_a_page_served_from_the_cache_plays_for_each_visitor(
    browser, page, live_server, sandbox_live, transactional_db, settings
):
    # A short token lifetime: a token rendered into the HTML would be dead by the time the
    # cached copy is served below.
    set_token_lifetime(settings, 3)
    key, title = ready_media(sandbox_live)
    url = page_url(live_server, key, "plays")

    warm = requests.get(url, timeout=10)  # someone else's visit fills the cache
    assert warm.status_code == 200
    assert "jwt" not in warm.text.lower() and "custom_key" not in warm.text
    for secret in (sandbox_live.keys.security_key, sandbox_live.keys.access_token):
        assert secret not in warm.text
    time.sleep(4)  # longer than the token lifetime

    page.goto(url)
    assert page.locator("body").get_attribute("data-rendered") == rendered_nonce(warm.text)
    first_visitor = wait_until_playing(page, title)
    assert first_visitor["src"].startswith(sandbox_live.player_url + "/s?jwt=")

    # Another visitor (fresh browser context: no cookies) gets the same cached HTML and a
    # token of their own.
    context = browser.new_context()
    try:
        other_page = context.new_page()
        other_page.goto(url)
        assert other_page.locator("body").get_attribute("data-rendered") == rendered_nonce(
            warm.text
        )
        second_visitor = wait_until_playing(other_page, title)
    finally:
        context.close()
    assert first_visitor["cuid"].startswith("anon-")
    assert second_visitor["cuid"].startswith("anon-")
    assert first_visitor["cuid"] != second_visitor["cuid"]
    assert page.console_errors == []


@pytest.mark.browser
def test_an_unstarted_player_gets_a_fresh_url_before_its_token_expires(
    page, live_server, sandbox_live, transactional_db, settings
):
    set_token_lifetime(settings, 5)  # refreshed after about 4 s
    key, title = ready_media(sandbox_live)
    page.goto(page_url(live_server, key, "refresh"))
    first = wait_until_playing(page, title)

    page.wait_for_function(
        "([selector, old]) => document.querySelector(selector).getAttribute('src') !== old",
        arg=[FRAME, first["src"]],
        timeout=10_000,
    )
    refreshed = wait_until_playing(page, title)
    assert refreshed["src"] != first["src"]
    assert refreshed["cuid"] == first["cuid"]  # same visitor, same session


@pytest.mark.browser
def test_a_started_player_is_never_reloaded(
    page, live_server, sandbox_live, transactional_db, settings
):
    set_token_lifetime(settings, 5)
    key, title = ready_media(sandbox_live)
    page.goto(page_url(live_server, key, "started"))
    first = wait_until_playing(page, title)

    # The viewer clicks into the player: focus moves into the cross-origin iframe.
    page.frame_locator(FRAME).locator("video").click()
    page.wait_for_function(
        "(selector) => document.activeElement === document.querySelector(selector)", arg=FRAME
    )
    page.wait_for_timeout(7_000)  # well past the token's expiry and the refresh time
    assert page.locator(FRAME).get_attribute("src") == first["src"]
    expect(page.locator(PLAYER)).to_have_attribute("data-kollus-state", "ready")


@pytest.mark.browser
def test_a_cached_page_whose_video_was_withdrawn_shows_a_message(
    page, live_server, sandbox_live, transactional_db
):
    from wagtail_kollus.models import KollusVideo

    key, title = ready_media(sandbox_live)
    video = KollusVideo.objects.create(title=title, media_content_key=key)
    url = f"{live_server.url}/_tests/cached-player/?video={video.pk}&case=withdrawn"
    warm = requests.get(url, timeout=10)
    assert "data-kollus-reference" in warm.text

    KollusVideo.objects.filter(pk=video.pk).update(is_available=False)  # e.g. unpublished
    page.goto(url)
    assert page.locator("body").get_attribute("data-rendered") == rendered_nonce(warm.text)
    expect(page.locator(PLAYER)).to_have_attribute("data-kollus-state", "error")
    expect(page.locator(f"{PLAYER} [role=alert]")).to_have_text(
        "This video cannot be played right now. Please reload the page."
    )
    assert page.locator(FRAME).get_attribute("src") is None
