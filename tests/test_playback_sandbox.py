"""Player URLs against the sandbox player over real HTTP: it verifies tokens as Kollus does.

The negative cases build tokens by hand with PyJWT to prove the sandbox (and so these tests)
would notice a token that breaks one of Kollus's rules.
"""

from __future__ import annotations

import html
import re
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
import requests
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.signed_cookies import SessionStore
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse

from wagtail_kollus import playback as player
from wagtail_kollus.playback.claims import ANONYMOUS_CUID_SESSION_KEY

pytestmark = pytest.mark.filterwarnings("ignore::jwt.InsecureKeyLengthWarning")


def ready_media(sandbox, *, hostile_title: bool = False) -> tuple[str, str]:
    """(media content key, title) of a playable sandbox media."""
    with sandbox.state.lock:
        for media in sandbox.state.media.values():
            if media["channels"] and (not hostile_title or "<" in media["title"]):
                return media["channels"][0]["media_content_key"], media["title"]
    raise AssertionError("the sandbox seed has no playable media")


def play(url: str) -> dict[str, str]:
    """GET the player page; return its ``data-*`` attributes (unescaped)."""
    response = requests.get(url, timeout=10)
    match = re.search(r"<div (data-sandbox-player=[^>]*)>", response.text)
    assert match, response.text
    attributes = {
        name: html.unescape(value)
        for name, value in re.findall(r"data-([\w-]+)='([^']*)'", match.group(1))
    }
    attributes["status"] = str(response.status_code)
    return attributes


def test_render_time_url_plays_with_the_title_cuid_and_options(sandbox):
    key, title = ready_media(sandbox, hostile_title=True)
    request = RequestFactory().get("/")
    request.user, request.session = AnonymousUser(), SessionStore()
    output = Template("{% load kollus %}{% kollus_player key %}").render(
        Context({"request": request, "key": key})
    )
    src = html.unescape(re.search(r'src="([^"]+)"', output).group(1))
    assert src.startswith(sandbox.player_url + "/s?")
    page = play(src)
    assert page["sandbox-player"] == "ok", page
    assert page["title"] == title
    assert page["mckey"] == key
    assert page["cuid"] == request.session[ANONYMOUS_CUID_SESSION_KEY]


def test_block_options_reach_the_player(sandbox):
    key, _ = ready_media(sandbox)
    url = player.build_player_url(
        key,
        "user-1",
        mc_options={"title": "Chapter 2 – <intro>", "seek": False, "seekable_end": 30},
        url_params={"autoplay": True, "mute": True, "t": 15},
    )
    page = play(url)
    assert page["sandbox-player"] == "ok", page
    assert page["title"] == "Chapter 2 – <intro>"
    assert (page["option-autoplay"], page["option-mute"], page["option-t"]) == ("1", "1", "15")


@pytest.mark.django_db
def test_token_endpoint_url_plays(sandbox, client):
    key, title = ready_media(sandbox)
    reference = player.sign_reference(player.Playable(key), now=time.time() - 86400)
    response = client.get(
        reverse("wagtail_kollus:player_token"), {"reference": reference}, REMOTE_ADDR="192.0.2.200"
    )
    assert response.status_code == 200
    page = play(response.json()["url"])
    assert page["sandbox-player"] == "ok", page
    assert page["title"] == title
    assert page["cuid"].startswith("anon-")


# --- tokens the sandbox must refuse ----------------------------------------------------------


def signed_url(sandbox, claims: dict, *, key: str | None = None, custom_key: str | None = None):
    token = jwt.encode(claims, key or sandbox.keys.security_key, algorithm="HS256")
    query = {"jwt": token, "custom_key": custom_key or sandbox.keys.custom_key}
    return f"{sandbox.player_url}/s?{urlencode(query)}"


def valid_claims(sandbox) -> dict:
    key, _ = ready_media(sandbox)
    return player.build_payload(key, "user-1")


def test_a_hand_built_valid_token_plays(sandbox):
    """The control case for the refusals below: only the named rule is broken in each."""
    assert play(signed_url(sandbox, valid_claims(sandbox)))["sandbox-player"] == "ok"


def test_a_tampered_token_is_refused(sandbox):
    key, _ = ready_media(sandbox)
    url = player.build_player_url(key, "user-1")
    token = parse_qs(urlsplit(url).query)["jwt"][0]
    header, _, signature = token.split(".")
    other = dict(valid_claims(sandbox), cuid="someone-else")
    forged_payload = jwt.encode(other, "x" * 32, algorithm="HS256").split(".")[1]
    forged = url.replace(token, f"{header}.{forged_payload}.{signature}")
    page = play(forged)
    assert (page["sandbox-player"], page["reason"]) == ("error", "bad-signature")


def test_a_token_signed_with_another_key_is_refused(sandbox):
    page = play(signed_url(sandbox, valid_claims(sandbox), key="not-the-security-key"))
    assert (page["sandbox-player"], page["reason"]) == ("error", "bad-signature")


def test_the_wrong_custom_key_is_refused(sandbox):
    page = play(signed_url(sandbox, valid_claims(sandbox), custom_key="someone-elses-key"))
    assert (page["sandbox-player"], page["reason"]) == ("error", "custom-key")


def test_an_expired_token_is_refused(sandbox):
    key, _ = ready_media(sandbox)
    claims = player.build_payload(key, "user-1", lifetime=60, now=time.time() - 120)
    page = play(
        f"{sandbox.player_url}/s?"
        + urlencode({"jwt": player.sign_token(claims), "custom_key": sandbox.keys.custom_key})
    )
    assert (page["sandbox-player"], page["reason"]) == ("error", "expired")


@pytest.mark.parametrize("claim", ["exp", "iat", "nbf"])
def test_a_registered_claim_is_refused(sandbox, claim):
    claims = dict(valid_claims(sandbox), **{claim: int(time.time()) + 60})
    page = play(signed_url(sandbox, claims))
    assert (page["sandbox-player"], page["reason"]) == ("error", "registered-claim")


# --- the real block value, end to end ------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("cache_safe", [False, True], ids=["render-time", "cache-safe"])
def test_a_kollus_video_block_value_plays_with_its_editor_options(sandbox, client, cache_safe):
    from wagtail_kollus.blocks import KollusVideoBlock
    from wagtail_kollus.models import KollusVideo

    key, _ = ready_media(sandbox)
    video = KollusVideo.objects.create(title="Chosen video", media_content_key=key)
    value = KollusVideoBlock().to_python(
        {
            "video": video.pk,
            "autoplay": True,
            "mute": True,
            "start_time": 12,
            "allow_seek": False,
            "disable_playrate": True,
            "title_override": "Shown <title>",
        }
    )
    request = RequestFactory().get("/")
    request.user, request.session = AnonymousUser(), SessionStore()
    output = Template("{% load kollus %}{% kollus_player value cache_safe=cs %}").render(
        Context({"request": request, "value": value, "cs": cache_safe})
    )
    assert 'title="Shown &lt;title&gt;"' in output
    if cache_safe:
        reference = html.unescape(re.search(r'data-kollus-reference="([^"]+)"', output).group(1))
        response = client.get(
            reverse("wagtail_kollus:player_token"),
            {"reference": reference},
            REMOTE_ADDR="192.0.2.201",
        )
        url = response.json()["url"]
    else:
        url = html.unescape(re.search(r'src="([^"]+)"', output).group(1))
    claims = jwt.decode(
        parse_qs(urlsplit(url).query)["jwt"][0], sandbox.keys.security_key, algorithms=["HS256"]
    )
    assert claims["mc"] == [
        {"mckey": key, "seek": False, "disable_playrate": True, "title": "Shown <title>"}
    ]
    page = play(url)
    assert page["sandbox-player"] == "ok", page
    assert page["title"] == "Shown <title>"
    assert (page["option-autoplay"], page["option-mute"], page["option-t"]) == ("1", "1", "12")
