"""The sandbox plays Kollus's part: its signed player asks the site's play callback (kind 1,
then 3) over real HTTP, checks the answer as Kollus would, and plays in full, plays the
preview window, or shows the site's refusal. The site is a live server; nothing is mocked."""

from __future__ import annotations

import html
import re

import pytest
import requests
from django.contrib.auth.models import AnonymousUser, User
from django.contrib.sessions.backends.db import SessionStore
from django.test import RequestFactory
from django.urls import reverse
from wagtail.models import Page, PageViewRestriction

from tests.testapp.models import VideoPage
from wagtail_kollus.playback.markup import render_player

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore::jwt.InsecureKeyLengthWarning"),
]


@pytest.fixture
def site(sandbox, live_server, settings):
    """The sandbox's play callback pointed at this site, as set in the Kollus console."""
    token = settings.WAGTAIL_KOLLUS["CALLBACK_TOKEN"]
    sandbox.set_callback_url(
        "play", live_server.url + reverse("wagtail_kollus:callback-play", kwargs={"token": token})
    )
    return sandbox


@pytest.fixture
def lesson():
    home = Page.objects.get(depth=2)
    page = home.add_child(instance=VideoPage(title="Lesson", slug="lesson"))
    PageViewRestriction.objects.create(page=page, restriction_type=PageViewRestriction.LOGIN)
    return page


def mckey_of(sandbox) -> str:
    with sandbox.state.lock:
        for media in sandbox.state.media.values():
            if media["channels"]:
                return media["channels"][0]["media_content_key"]
    raise AssertionError("no playable media in the sandbox seed")


def player_src(mckey: str, page, user=None) -> str:
    """The iframe URL the page renders for ``user`` (render-time signing)."""
    request = RequestFactory().get("/")
    request.user, request.session = user or AnonymousUser(), SessionStore()
    markup = render_player(mckey, request=request, page=page, cache_safe=False)
    found = re.search(r'src="([^"]+)"', markup)
    assert found, markup
    return html.unescape(found[1])


def open_player(url: str, session: requests.Session | None = None) -> dict[str, str]:
    response = (session or requests).get(url, timeout=15)
    attributes = dict(re.findall(r"data-([\w-]+)='([^']*)'", response.text))
    return {k: html.unescape(v) for k, v in attributes.items()} | {"status": str(response.status_code)}


def test_a_member_plays_in_full_after_kinds_1_and_3(site, lesson):
    member = User.objects.create_user("member", "m@example.com", "pw")
    mckey = mckey_of(site)
    player = open_player(player_src(mckey, lesson, member))
    assert player["sandbox-player"] == "ok", player
    assert player["play"] == "full"
    plays = [r for r in site.requests if r.get("endpoint") == "player.signed"]
    assert plays, "the player page was not opened"


def test_a_viewer_the_policy_refuses_reads_its_message(site, lesson, settings):
    # The refused viewer's URL: a member's player whose membership ended since (deactivated).
    member = User.objects.create_user("member", "m@example.com", "pw")
    url = player_src(mckey_of(site), lesson, member)
    User.objects.filter(pk=member.pk).update(is_active=False)
    player = open_player(url)
    assert player["sandbox-player"] == "refused"
    assert player["message"] == "Log in to watch this video."


def test_an_anonymous_viewer_gets_the_preview_window_only(site, lesson, settings):
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "PLAYBACK_PREVIEW_SECONDS": 30}
    player = open_player(player_src(mckey_of(site), lesson))
    assert player["sandbox-player"] == "ok"
    assert player["play"] == "preview"
    assert (player["play-section-start"], player["play-section-end"]) == ("0", "30")


def test_a_player_url_without_a_play_context_is_refused(site, lesson):
    from wagtail_kollus.playback import build_player_url

    player = open_player(build_player_url(mckey_of(site), "user-made-up"))
    assert player["sandbox-player"] == "refused"
    assert player["message"] == "This video cannot be played here."


def test_a_third_device_is_refused_naming_the_limit(site, lesson, settings):
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "PLAYBACK_MAX_STREAMS": 2}
    member = User.objects.create_user("member", "m@example.com", "pw")
    url = player_src(mckey_of(site), lesson, member)
    devices = [requests.Session() for _ in range(3)]
    assert open_player(url, devices[0])["play"] == "full"
    assert open_player(url, devices[1])["play"] == "full"
    third = open_player(url, devices[2])
    assert third["sandbox-player"] == "refused"
    assert "2 devices" in third["message"]


def test_one_scripted_client_over_http_stays_one_device(site, lesson, settings):
    """requests (like curl) never sends a Secure cookie back over http: the sandbox's device
    cookie must come back anyway, or every load is a new device and the third is refused."""
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "PLAYBACK_MAX_STREAMS": 2}
    member = User.objects.create_user("member", "m@example.com", "pw")
    url = player_src(mckey_of(site), lesson, member)
    client = requests.Session()
    loads = [open_player(url, client) for _ in range(3)]
    assert [load["play"] for load in loads] == ["full"] * 3, loads[-1]
    plain = [c for c in client.cookies if c.name == "kollus_sandbox_device_http"]
    assert plain and not plain[0].secure
    # Browsers in a cross-site iframe still get their SameSite=None; Secure cookie.
    first = requests.get(url, timeout=15).headers["Set-Cookie"]
    assert "kollus_sandbox_device=" in first and "SameSite=None; Secure; Partitioned" in first


def test_an_answer_kollus_would_not_accept_is_named(site, lesson, settings, live_server):
    # A platform callback URL answers plain "ok": no JWT, no X-KOLLUS-USERKEY header.
    token = settings.WAGTAIL_KOLLUS["CALLBACK_TOKEN"]
    site.set_callback_url(
        "play", live_server.url + reverse("wagtail_kollus:callback-upload", kwargs={"token": token})
    )
    member = User.objects.create_user("member", "m@example.com", "pw")
    player = open_player(player_src(mckey_of(site), lesson, member))
    assert player["sandbox-player"] == "error"
    assert player["reason"].startswith("play-callback-"), player


@pytest.mark.parametrize(
    ("path", "reason", "says"),
    [
        # A typo outside /kollus/callbacks/ lands on Wagtail's page serving: CSRF refuses the POST.
        ("/kollus/callback/play/{token}/", "play-callback-csrf", "Django's CSRF refusal"),
        ("/kollus/callbacks/plya/{token}/", "play-callback-not-found", "with 404"),
    ],
)
def test_a_callback_url_that_misses_wagtail_kollus_is_named(site, lesson, settings, live_server, path, reason, says):
    token = settings.WAGTAIL_KOLLUS["CALLBACK_TOKEN"]
    site.set_callback_url("play", live_server.url + path.format(token=token))
    member = User.objects.create_user("member", "m@example.com", "pw")
    page = requests.get(player_src(mckey_of(site), lesson, member), timeout=15).text
    attributes = dict(re.findall(r"data-([\w-]+)='([^']*)'", page))
    assert (attributes["sandbox-player"], attributes["reason"]) == ("error", reason)
    assert says in html.unescape(page) and "wagtail_kollus.urls" in page
    assert token not in page
    # The index page tells the same story for the play callback, without the token.
    index = requests.get(site.base_url + "/", timeout=5).text
    assert f"data-diagnosis='{reason.removeprefix('play-callback-')}'" in index
    assert says in html.unescape(index) and token not in index


def test_a_platform_callback_answered_with_a_csrf_refusal_is_named(sandbox, live_server, settings):
    from wagtail_kollus.sandbox.testing import wait_until

    token = settings.WAGTAIL_KOLLUS["CALLBACK_TOKEN"]
    sandbox.set_callback_url("upload", f"{live_server.url}/kollus/callback/upload/{token}/")
    sandbox._app.callbacks.send("upload", {"upload_file_key": "ufk-x", "result": "success"})
    entry = wait_until(lambda: next((e for e in sandbox.callbacks if e["attempts"]), None))
    assert entry["attempts"][0]["status"] == 403
    assert entry["attempts"][0]["diagnosis"] == "csrf"
    index = html.unescape(requests.get(sandbox.base_url + "/", timeout=5).text)
    assert "data-diagnosis='csrf'" in index and "upload callback with Django's CSRF refusal" in index


def test_the_play_callback_url_is_set_apart_from_the_platform_callbacks(sandbox):
    from wagtail_kollus.sandbox.__main__ import parse_callback_urls
    from wagtail_kollus.sandbox.config import CALLBACK_KINDS

    urls = parse_callback_urls(["http://site/cb/{kind}/T/", "play=http://site/cb/play/T/"])
    assert urls["play"] == "http://site/cb/play/T/"
    assert {kind: urls[kind] for kind in CALLBACK_KINDS} == dict.fromkeys(
        CALLBACK_KINDS, "http://site/cb/{kind}/T/"
    )
    # "all" is Kollus's platform callbacks: it neither sets nor clears the play callback.
    sandbox.set_callback_url("play", "http://site/cb/play/T/")
    sandbox.set_callback_url("all", None)
    assert sandbox._app.callbacks.targets == {"play": "http://site/cb/play/T/"}
