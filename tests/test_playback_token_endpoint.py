"""The token endpoint of cache-safe playback: through Django's test client, and (for its limits
on the database cache) through a live server answering many requests at once."""

from __future__ import annotations

import itertools
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.cache import caches
from django.core.management import call_command
from django.urls import reverse

from wagtail_kollus import playback
from wagtail_kollus.availability import apply_media
from wagtail_kollus.models import KollusMedia, KollusVideo, MediaState
from wagtail_kollus.playback.claims import VIEWER_COOKIE
from wagtail_kollus.playback.viewer import user_viewer_id

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.filterwarnings("ignore::jwt.InsecureKeyLengthWarning"),
]

# A distinct client address per test keeps the rate-limit counters of tests apart, also when
# several tests share one process-wide cache.
_addresses = (f"192.0.2.{n}" for n in itertools.count(1))
# The rate limit's windows are fixed and counted from the epoch: a window of an hour ends at
# every o'clock, and a test running across 12:00:00 counted its requests in two windows. The
# window holding today ends in January 2038, so no run straddles one.
ONE_WINDOW = 2**31


@pytest.fixture
def address():
    return next(_addresses)


@pytest.fixture
def token_url():
    return reverse("wagtail_kollus:player_token")


def reference_for(key="mck-1", **kwargs) -> str:
    return playback.sign_reference(playback.Playable(key, **kwargs))


def claims_of(url: str) -> dict:
    token = parse_qs(urlsplit(url).query)["jwt"][0]
    return jwt.decode(token, "sandbox-security-key", algorithms=["HS256"])


def test_a_valid_reference_gets_a_fresh_uncacheable_player_url(client, token_url, address):
    reference = reference_for(
        mc_options={"seek": False, "seekable_end": 30}, url_params={"mute": True}
    )
    response = client.get(token_url, {"reference": reference}, REMOTE_ADDR=address)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert "Cookie" in response["Vary"]
    body = response.json()
    assert set(body) == {"url", "expires_at", "expires_in"}
    assert body["url"].startswith("http://127.0.0.1:9/player/s?jwt=")
    assert parse_qs(urlsplit(body["url"]).query)["mute"] == ["1"]
    claims = claims_of(body["url"])
    assert claims["mc"] == [{"mckey": "mck-1", "seek": False, "seekable_end": 30}]
    assert claims["expt"] == body["expires_at"]
    assert 295 <= body["expires_in"] <= 300
    assert abs(body["expires_at"] - (time.time() + 300)) <= 2


def test_post_with_a_form_or_json_body_works_too(client, token_url, address):
    reference = reference_for()
    form = client.post(token_url, {"reference": reference}, REMOTE_ADDR=address)
    as_json = client.post(
        token_url,
        json.dumps({"reference": reference}),
        content_type="application/json",
        REMOTE_ADDR=address,
    )
    assert form.status_code == as_json.status_code == 200


def test_the_cuid_is_the_requesting_viewer_and_stable_per_session(client, token_url, address):
    reference = reference_for()
    client.session.save()  # a visitor who already has a session (a cookie)
    first = claims_of(
        client.get(token_url, {"reference": reference}, REMOTE_ADDR=address).json()["url"]
    )
    again = claims_of(
        client.get(token_url, {"reference": reference}, REMOTE_ADDR=address).json()["url"]
    )
    assert first["cuid"].startswith("anon-") and first["cuid"] == again["cuid"]

    other_client = type(client)()
    other_client.session.save()
    other = claims_of(
        other_client.get(token_url, {"reference": reference}, REMOTE_ADDR=address).json()["url"]
    )
    assert other["cuid"] != first["cuid"]


def test_a_client_without_a_session_cookie_gets_no_session(client, token_url, address):
    """Every cookie-less request used to create a session row (and send a session cookie).
    Now a browser keeps its viewer id in a signed cookie; a client that keeps no cookie costs
    nothing."""
    reference = reference_for()
    sessions = Session.objects.count()

    first = client.get(token_url, {"reference": reference}, REMOTE_ADDR=address)
    assert first.status_code == 200
    assert "sessionid" not in first.cookies
    cookie = first.cookies[VIEWER_COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    cuid = claims_of(first.json()["url"])["cuid"]
    assert cuid.startswith("anon-") and cuid not in cookie.value.split(":")[1:]  # signed
    again = client.get(token_url, {"reference": reference}, REMOTE_ADDR=address)
    assert claims_of(again.json()["url"])["cuid"] == cuid  # the browser sent the cookie back
    assert VIEWER_COOKIE not in again.cookies  # nothing new to remember

    others = {
        claims_of(
            type(client)().get(token_url, {"reference": reference}, REMOTE_ADDR=address).json()[
                "url"
            ]
        )["cuid"]
        for _ in range(3)
    }
    assert len(others) == 3 and cuid not in others  # each new visitor is a viewer of their own
    assert Session.objects.count() == sessions


def test_a_forged_viewer_cookie_is_ignored(client, token_url, address):
    client.cookies[VIEWER_COOKIE] = "anon-chosen-by-me"
    response = client.get(token_url, {"reference": reference_for()}, REMOTE_ADDR=address)
    assert claims_of(response.json()["url"])["cuid"] != "anon-chosen-by-me"


def test_a_signed_in_viewer_gets_their_own_cuid(client, token_url, address, django_user_model):
    user = django_user_model.objects.create_user("viewer", password="x")
    client.force_login(user)
    response = client.get(token_url, {"reference": reference_for()}, REMOTE_ADDR=address)
    assert claims_of(response.json()["url"])["cuid"] == user_viewer_id(user.pk)


@pytest.mark.parametrize(
    ("reference", "status", "code"),
    [
        ("", 400, "missing_reference"),
        ("not-a-reference", 403, "invalid_reference"),
    ],
)
def test_missing_or_garbage_references_are_refused(
    client, token_url, address, reference, status, code
):
    response = client.get(token_url, {"reference": reference}, REMOTE_ADDR=address)
    assert response.status_code == status
    assert response.json()["error"] == code
    assert "no-store" in response["Cache-Control"]


def test_a_tampered_reference_cannot_mint_a_token_for_another_video(client, token_url, address):
    reference = reference_for("mck-1")
    payload, signature = reference.split(":", 1)
    forged = reference_for("mck-other").split(":", 1)[0] + ":" + signature
    for candidate in (forged, payload + ":" + signature[:-2] + "xx"):
        response = client.get(token_url, {"reference": candidate}, REMOTE_ADDR=address)
        assert response.status_code == 403
        assert response.json()["error"] == "invalid_reference"
        assert "url" not in response.json()


def test_an_expired_reference_is_refused_but_a_day_old_one_is_not(client, token_url, address):
    day_old = playback.sign_reference(playback.Playable("mck-1"), now=time.time() - 86400)
    assert client.get(token_url, {"reference": day_old}, REMOTE_ADDR=address).status_code == 200
    too_old = playback.sign_reference(playback.Playable("mck-1"), now=time.time() - 31 * 86400)
    response = client.get(token_url, {"reference": too_old}, REMOTE_ADDR=address)
    assert response.status_code == 403
    assert response.json()["error"] == "expired_reference"


def library_video(key: str = "mck-lib") -> KollusVideo:
    media = KollusMedia.objects.create(title="m", media_content_key=key, state=MediaState.READY)
    return KollusVideo.objects.create(
        source="library", title="Library video", media_content_key=key, media=media
    )


def set_media_state(video: KollusVideo, state: str) -> None:
    """A write of the media's state, followed as every such write is (availability)."""
    KollusMedia.objects.filter(pk=video.media_id).update(state=state)
    apply_media(KollusMedia.objects.get(pk=video.media_id))


@pytest.mark.parametrize(
    "withdraw",
    [
        lambda video: KollusVideo.objects.filter(pk=video.pk).update(is_available=False),
        lambda video: set_media_state(video, MediaState.TRANSCODING),
        lambda video: set_media_state(video, MediaState.DELETED),
        lambda video: KollusVideo.objects.filter(pk=video.pk).delete(),
    ],
    ids=["unavailable", "media-not-ready", "media-deleted", "row-deleted"],
)
def test_a_video_withdrawn_after_caching_gets_no_token(client, token_url, address, withdraw):
    video = library_video()
    reference = reference_for(video.media_content_key, video_id=video.pk)
    assert client.get(token_url, {"reference": reference}, REMOTE_ADDR=address).status_code == 200
    withdraw(video)
    response = client.get(token_url, {"reference": reference}, REMOTE_ADDR=address)
    assert response.status_code == 410
    assert response.json()["error"] == "unavailable"
    assert "url" not in response.json()


def test_a_reference_for_a_key_the_video_no_longer_plays_is_refused(client, token_url, address):
    """A cached page signed for the old media content key must not mint a token for it."""
    video = library_video("mck-old")
    reference = reference_for("mck-old", video_id=video.pk)
    KollusVideo.objects.filter(pk=video.pk).update(media_content_key="mck-new")
    KollusMedia.objects.filter(pk=video.media_id).update(media_content_key="mck-new")
    response = client.get(token_url, {"reference": reference}, REMOTE_ADDR=address)
    assert response.status_code == 410
    assert response.json()["error"] == "video_changed"
    fresh = reference_for("mck-new", video_id=video.pk)
    response = client.get(token_url, {"reference": fresh}, REMOTE_ADDR=address)
    assert claims_of(response.json()["url"])["mc"][0]["mckey"] == "mck-new"


def test_clients_are_rate_limited_with_retry_after(client, token_url, address, settings):
    settings.WAGTAIL_KOLLUS = {
        **settings.WAGTAIL_KOLLUS,
        "PLAYER_TOKEN_RATE_LIMIT": 3,
        "PLAYER_TOKEN_RATE_WINDOW": ONE_WINDOW,  # one window for the whole test
    }
    reference = reference_for()
    statuses = [
        client.get(token_url, {"reference": reference}, REMOTE_ADDR=address).status_code
        for _ in range(4)
    ]
    assert statuses == [200, 200, 200, 429]
    window_left_before = ONE_WINDOW - time.time() % ONE_WINDOW
    limited = client.get(token_url, {"reference": reference}, REMOTE_ADDR=address)
    window_left_after = ONE_WINDOW - time.time() % ONE_WINDOW
    assert limited.status_code == 429
    assert limited.json()["error"] == "rate_limited"
    # Until the window ends, in whole seconds.
    assert window_left_after <= int(limited["Retry-After"]) <= window_left_before + 1
    assert "no-store" in limited["Cache-Control"]
    # Another visitor (another address) is not affected.
    other = type(client)().get(token_url, {"reference": reference}, REMOTE_ADDR=next(_addresses))
    assert other.status_code == 200


def test_dropping_the_session_cookie_does_not_escape_the_per_ip_limit(
    client, token_url, address, settings
):
    settings.WAGTAIL_KOLLUS = {
        **settings.WAGTAIL_KOLLUS,
        "PLAYER_TOKEN_RATE_LIMIT_PER_IP": 2,
        "PLAYER_TOKEN_RATE_WINDOW": ONE_WINDOW,
    }
    reference = reference_for()
    statuses = []
    for n in range(3):
        other_client = type(client)()
        other_client.session.save()  # a new session each time: a new "client"
        response = other_client.get(
            token_url, {"reference": reference}, REMOTE_ADDR=address, HTTP_USER_AGENT=f"ua-{n}"
        )
        statuses.append(response.status_code)
    assert statuses == [200, 200, 429]


def test_missing_security_key_is_a_503_without_details(client, token_url, address, settings):
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "KOLLUS_SECURITY_KEY": ""}
    response = client.get(token_url, {"reference": reference_for()}, REMOTE_ADDR=address)
    assert response.status_code == 503
    assert response.json() == {"error": "not_configured", "message": "Playback is not configured."}


def test_other_methods_are_refused(client, token_url):
    assert client.put(token_url).status_code == 405


# --- the limits hold on the database cache -----------------------------------------------------


@pytest.fixture
def database_rate_cache(settings):
    """``RATE_LIMIT_CACHE`` on Django's database cache (what the demo uses), whose ``incr`` is
    a read then a write: parallel requests would all read the same count."""
    settings.CACHES = {
        **settings.CACHES,
        "rates": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "wagtail_kollus_test_rates",
            # As docs/deployment.md says: the default 300 would cull the slots (W021).
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        },
    }
    call_command("createcachetable", "wagtail_kollus_test_rates", verbosity=0)
    caches["rates"].clear()  # the table is not a model's: a flush between tests keeps its rows
    settings.WAGTAIL_KOLLUS = {
        **settings.WAGTAIL_KOLLUS,
        "RATE_LIMIT_CACHE": "rates",
        "PLAYER_TOKEN_RATE_WINDOW": ONE_WINDOW,  # one window for the whole test
    }


def test_sequential_requests_pass_exactly_the_limit_on_the_database_cache(
    client, token_url, address, settings, database_rate_cache
):
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "PLAYER_TOKEN_RATE_LIMIT": 5}
    reference = reference_for()
    statuses = [
        type(client)().get(token_url, {"reference": reference}, REMOTE_ADDR=address).status_code
        for _ in range(8)
    ]
    assert statuses == [200] * 5 + [429] * 3


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("with_session", [False, True], ids=["cookie-less", "one-session"])
def test_parallel_requests_pass_exactly_the_limit_on_the_database_cache(
    live_server, settings, database_rate_cache, with_session
):
    """81 requests at once from one client against a limit of 30: exactly 30 pass, whether the
    client sends no cookie or one session cookie (then every request counts in one bucket)."""
    settings.WAGTAIL_KOLLUS = {
        **settings.WAGTAIL_KOLLUS,
        "PLAYER_TOKEN_RATE_LIMIT": 30,
        "PLAYER_TOKEN_RATE_LIMIT_PER_IP": 300,
    }
    url = live_server.url + reverse("wagtail_kollus:player_token")
    reference = reference_for()
    cookies = {}
    if with_session:
        session = SessionStore()
        session.create()
        cookies[settings.SESSION_COOKIE_NAME] = session.session_key
    sessions = Session.objects.count()
    start = threading.Barrier(81)

    def ask(_: int) -> int:
        start.wait()
        return requests.get(
            url, params={"reference": reference}, cookies=cookies, timeout=60
        ).status_code

    with ThreadPoolExecutor(max_workers=81) as pool:
        statuses = list(pool.map(ask, range(81)))
    assert statuses.count(200) == 30, statuses
    assert statuses.count(429) == 51, statuses
    assert Session.objects.count() == sessions
