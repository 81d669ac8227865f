"""Playback's plain functions: the JWT Kollus wants, the viewer id, the cache-safe reference."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.signed_cookies import SessionStore
from django.http import HttpResponse
from django.test import RequestFactory

from wagtail_kollus import playback
from wagtail_kollus.api.errors import ConfigurationError
from wagtail_kollus.playback.claims import (
    ANONYMOUS_CUID_SESSION_KEY,
    NEW_VIEWER_ATTRIBUTE,
    VIEWER_COOKIE,
    VIEWER_COOKIE_SALT,
)
from wagtail_kollus.playback.viewer import user_viewer_id

pytestmark = pytest.mark.filterwarnings(
    # The sandbox demo security key is shorter than PyJWT likes; Kollus issues real keys.
    "ignore::jwt.InsecureKeyLengthWarning"
)

SECURITY_KEY = "sandbox-security-key"
REGISTERED_CLAIMS = {"exp", "iat", "nbf", "iss", "aud", "sub", "jti"}


def decode(token: str) -> dict:
    # Kollus's rule is "no registered claims"; decoding without them must still succeed.
    return jwt.decode(token, SECURITY_KEY, algorithms=["HS256"], options={"require": []})


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


class User:
    """A signed-in user as ``request.user`` exposes it (pk + is_authenticated)."""

    is_authenticated = True

    def __init__(self, pk: int) -> None:
        self.pk = pk


def anonymous_request(session=True):
    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.9", HTTP_USER_AGENT="pytest")
    request.user = AnonymousUser()
    if session:
        request.session = SessionStore()
    return request


# --- payload and token ---------------------------------------------------------------------


def test_token_has_only_kollus_claims_and_an_integer_expt():
    before = int(time.time())
    link = playback.build_player_link("mck-1", "user-7")
    claims = decode(query_of(link.url)["jwt"][0])
    after = int(time.time())

    assert set(claims) == {"cuid", "expt", "mc"}
    assert not REGISTERED_CLAIMS & set(claims)
    assert isinstance(claims["expt"], int)
    assert before + 300 <= claims["expt"] <= after + 300  # PLAYER_TOKEN_LIFETIME default
    assert claims["expt"] == link.expires_at
    assert claims["cuid"] == "user-7"
    assert claims["mc"] == [{"mckey": "mck-1"}]
    assert jwt.get_unverified_header(query_of(link.url)["jwt"][0])["alg"] == "HS256"


def test_lifetime_comes_from_the_setting(settings):
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "PLAYER_TOKEN_LIFETIME": 42}
    payload = playback.build_payload("mck-1", "c", now=1_700_000_000.9)
    assert payload["expt"] == 1_700_000_042


def test_mc_options_get_the_json_types_kollus_expects():
    payload = playback.build_payload(
        "mck-1",
        "c",
        mc_options={
            "seek": 0,
            "seekable_end": "120",
            "disable_playrate": 1,
            "title": "  Lesson 1  ",
            "mcpf": None,
            "play_section": {"start_time": 0, "end_time": 300},
        },
    )
    item = payload["mc"][0]
    assert item == {
        "mckey": "mck-1",
        "seek": False,
        "seekable_end": 120,
        "disable_playrate": True,
        "title": "Lesson 1",
        "play_section": {"start_time": 0, "end_time": 300},
    }
    assert isinstance(item["seekable_end"], int)
    claims = decode(playback.sign_token(payload))
    assert claims["mc"][0]["seekable_end"] == 120 and claims["mc"][0]["seek"] is False


def test_options_cannot_replace_the_media_content_key():
    with pytest.raises(ValueError, match="mckey"):
        playback.build_payload("mck-1", "c", mc_options={"mckey": "someone-elses"})


@pytest.mark.parametrize("claim", ["exp", "iat", "nbf"])
def test_sign_token_refuses_registered_claims(claim):
    with pytest.raises(ValueError, match="registered claims"):
        playback.sign_token({"cuid": "c", "expt": 1, "mc": [], claim: 1})


def test_player_url_carries_custom_key_and_player_options():
    url = playback.build_player_url(
        "mck-1", "c", url_params={"autoplay": True, "mute": False, "t": 90}
    )
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "http://127.0.0.1:9/player/s"
    query = query_of(url)
    assert query["custom_key"] == ["sandbox-custom-key"]
    assert query["autoplay"] == ["1"]
    assert query["t"] == ["90"]
    assert "mute" not in query


def test_start_time_zero_is_left_out_and_reserved_params_are_refused():
    assert "t" not in query_of(playback.build_player_url("k", "c", url_params={"t": 0}))
    with pytest.raises(ValueError, match="jwt"):
        playback.build_player_url("k", "c", url_params={"jwt": "forged"})


@pytest.mark.parametrize("missing", ["KOLLUS_SECURITY_KEY", "KOLLUS_CUSTOM_KEY"])
def test_missing_keys_raise_a_configuration_error_naming_the_setting(settings, missing):
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, missing: ""}
    with pytest.raises(ConfigurationError, match=missing):
        playback.build_player_url("mck-1", "c")


@pytest.mark.parametrize("key", ["", "   ", None, "x" * 101])
def test_bad_media_content_keys_are_refused(key):
    with pytest.raises(ValueError):
        playback.build_payload(key, "c")


# --- cuid ----------------------------------------------------------------------------------


def test_cuid_for_a_signed_in_user_is_stable_and_not_personal():
    request = RequestFactory().get("/")
    request.user = User(pk=15)
    cuid = playback.resolve_cuid(request)
    assert cuid == user_viewer_id(15) == playback.resolve_cuid(request)
    # Not the pk in clear (nobody plays as user 16 by editing a number), and not guessable
    # without the key: another key gives other ids.
    assert cuid.startswith("user-") and cuid not in ("user-15", "user-16")
    assert len(cuid) == len("user-") + 24
    assert user_viewer_id(16) != cuid


def test_viewer_id_key_keeps_viewer_ids_across_a_secret_key_rotation(settings):
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "VIEWER_ID_KEY": "viewer-ids-0123"}
    before = user_viewer_id(15)
    settings.SECRET_KEY = settings.SECRET_KEY + "-rotated"
    assert user_viewer_id(15) == before
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "VIEWER_ID_KEY": ""}
    assert user_viewer_id(15) != before


def test_anonymous_cuid_is_stable_within_a_session_and_differs_between_sessions():
    first, second = anonymous_request(), anonymous_request()
    cuid = playback.resolve_cuid(first)
    assert cuid.startswith("anon-")
    assert playback.resolve_cuid(first) == cuid
    assert first.session[ANONYMOUS_CUID_SESSION_KEY] == cuid
    assert playback.resolve_cuid(second) != cuid


def test_anonymous_cuid_without_sessions_is_a_keyed_hash_of_the_client():
    cuid = playback.resolve_cuid(anonymous_request(session=False))
    assert cuid == playback.resolve_cuid(anonymous_request(session=False))
    assert cuid.startswith("anon-") and "203.0.113.9" not in cuid
    other = anonymous_request(session=False)
    other.META["REMOTE_ADDR"] = "198.51.100.1"
    assert playback.resolve_cuid(other) != cuid


def test_a_client_without_a_session_gets_none_when_one_may_not_be_created():
    """The token endpoint's way of asking: no session row for a client that sends no cookie;
    a new viewer id is left on the request for the endpoint to set as a signed cookie."""
    request = anonymous_request()
    cuid = playback.resolve_cuid(request, may_create_session=False)
    assert cuid.startswith("anon-") and getattr(request, NEW_VIEWER_ATTRIBUTE) == cuid
    assert not request.session.modified and ANONYMOUS_CUID_SESSION_KEY not in request.session
    # The cookie set from it names the same viewer next time.
    returning = anonymous_request()
    response = HttpResponse()
    response.set_signed_cookie(VIEWER_COOKIE, cuid, salt=VIEWER_COOKIE_SALT)
    returning.COOKIES[VIEWER_COOKIE] = response.cookies[VIEWER_COOKIE].value
    assert playback.resolve_cuid(returning, may_create_session=False) == cuid
    assert not hasattr(returning, NEW_VIEWER_ATTRIBUTE)
    # A client that already has a session keeps its viewer id in it.
    existing = anonymous_request()
    existing.session["cart"] = "1"
    existing.session.save()
    kept = playback.resolve_cuid(existing, may_create_session=False)
    assert existing.session[ANONYMOUS_CUID_SESSION_KEY] == kept != cuid


def test_the_old_import_path_and_resolver_setting_still_work(settings):
    from wagtail_kollus import player

    assert player.build_player_link is playback.build_player_link
    assert player.sign_reference is playback.sign_reference
    settings.WAGTAIL_KOLLUS = {
        **settings.WAGTAIL_KOLLUS,
        "CUID_RESOLVER": "wagtail_kollus.player.default_cuid",
    }
    request = RequestFactory().get("/")
    request.user = User(pk=4)
    assert playback.resolve_cuid(request) == user_viewer_id(4)


def site_cuid(request):
    return f"member:{request.GET.get('member', '')}" if request.GET.get("member") else ""


def test_cuid_resolver_setting_is_used_and_empty_answers_fall_back(settings):
    settings.WAGTAIL_KOLLUS = {
        **settings.WAGTAIL_KOLLUS,
        "CUID_RESOLVER": "tests.test_playback.site_cuid",
    }
    request = RequestFactory().get("/", {"member": "42"})
    assert playback.resolve_cuid(request) == "member:42"
    fallback = anonymous_request()
    assert playback.resolve_cuid(fallback).startswith("anon-")


def test_the_viewer_id_is_resolved_once_per_request_and_user(settings):
    calls = []

    def counting_resolver(request):
        calls.append(request)
        return f"viewer-{len(calls)}"

    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "CUID_RESOLVER": counting_resolver}
    request = anonymous_request()
    # A page of many players asks once per player: the resolver runs once.
    assert {playback.resolve_cuid(request) for _ in range(5)} == {"viewer-1"}
    assert len(calls) == 1
    request.user = User(pk=3)  # signed in during the request: ask again
    assert playback.resolve_cuid(request) == "viewer-2"
    assert playback.resolve_cuid(anonymous_request()) == "viewer-3"  # another request
    settings.WAGTAIL_KOLLUS = {
        **settings.WAGTAIL_KOLLUS,
        "CUID_RESOLVER": "tests.test_playback.site_cuid",
    }
    assert playback.resolve_cuid(request) == user_viewer_id(3)  # another resolver (falls back to the user)


def test_an_unimportable_cuid_resolver_is_a_configuration_error(settings):
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "CUID_RESOLVER": "nowhere.resolver"}
    with pytest.raises(ConfigurationError, match="CUID_RESOLVER"):
        playback.resolve_cuid(anonymous_request())


# --- the cache-safe reference --------------------------------------------------------------


def test_reference_round_trips_key_and_options_and_holds_no_secret():
    playable = playback.Playable(
        "mck-1", mc_options={"seek": False, "title": "T"}, url_params={"mute": True}, video_id=3
    )
    reference = playback.sign_reference(playable)
    for secret in ("sandbox-security-key", "sandbox-custom-key", "sandbox-access-token"):
        assert secret not in reference
    loaded = playback.load_reference(reference)
    assert loaded.media_content_key == "mck-1"
    assert loaded.mc_options == {"seek": False, "title": "T"}
    assert loaded.url_params == {"mute": "1"}
    assert loaded.video_id == 3


def test_references_keep_option_types_and_follow_the_secret_key(settings):
    as_true = playback.sign_reference(playback.Playable("mck-type", mc_options={"custom": True}))
    as_one = playback.sign_reference(playback.Playable("mck-type", mc_options={"custom": 1}))
    assert playback.load_reference(as_true).mc_options == {"custom": True}
    assert playback.load_reference(as_one).mc_options == {"custom": 1}
    unhashable = playback.Playable("mck-type", mc_options={"play_section": [0, 30]})
    assert playback.load_reference(playback.sign_reference(unhashable)).mc_options == {
        "play_section": [0, 30]
    }
    settings.SECRET_KEY = "another-secret-key-for-this-test-only-0123456789"
    rotated = playback.sign_reference(playback.Playable("mck-type", mc_options={"custom": True}))
    assert rotated != as_true
    assert playback.load_reference(rotated).media_content_key == "mck-type"


def test_a_day_old_reference_still_loads_but_one_past_max_age_does_not():
    playable = playback.Playable("mck-1")
    day_old = playback.sign_reference(playable, now=time.time() - 24 * 3600)
    assert playback.load_reference(day_old).media_content_key == "mck-1"
    too_old = playback.sign_reference(playable, now=time.time() - 31 * 24 * 3600)
    with pytest.raises(playback.InvalidReference) as excinfo:
        playback.load_reference(too_old)
    assert excinfo.value.code == "expired_reference"


def test_a_reference_altered_to_point_at_another_video_is_refused():
    reference = playback.sign_reference(playback.Playable("mck-1"))
    other = playback.sign_reference(playback.Playable("mck-2"))
    # Keep the signature of one and the data of the other (both are base64 of JSON).
    forged = other.split(":", 1)[0] + ":" + reference.split(":", 1)[1]
    with pytest.raises(playback.InvalidReference) as excinfo:
        playback.load_reference(forged)
    assert excinfo.value.code == "invalid_reference"


def test_a_reference_signed_for_another_purpose_is_refused():
    from django.core import signing

    foreign = signing.dumps({"k": "mck-1", "o": {}, "p": {}})  # default salt
    with pytest.raises(playback.InvalidReference):
        playback.load_reference(foreign)


# --- what the tag accepts ------------------------------------------------------------------


def test_playable_from_a_string_and_from_nothing():
    assert playback.playable_from(" mck-1 ").media_content_key == "mck-1"
    assert playback.playable_from("") is None
    assert playback.playable_from(None) is None
    assert playback.playable_from(42) is None
