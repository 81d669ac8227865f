"""No secret in any response, log record or exception — on good days and bad ones.

A sandbox of our own accepts only recognisable secrets (``security_support.SECRETS``); the
plugin is configured with them; then every admin screen of the URL walk, the front-end
templates and the token endpoint are rendered, while both APIs answer normally, 401, 500, an
HTML page, malformed JSON, too slowly, or not at all. Any secret in a body, a header, a captured
log record (every logger, DEBUG) or a client exception (with its traceback) fails the test.

Documented exceptions (SECURITY.md, docs/security.md):
- the custom key is part of a Kollus player URL by Kollus's design
  (``…/s?jwt=…&custom_key=…``): allowed in render-time player HTML and in the token endpoint's
  JSON, never in cache-safe HTML;
- the callback token is shown to superusers on the library's "Callback URLs to paste into the
  Kollus console" panel, and nowhere else.
"""

from __future__ import annotations

import base64
import json
import logging
import socket
import traceback
from collections.abc import Iterator
from html.parser import HTMLParser

import pytest
from django.apps import apps as django_apps
from django.core.cache import caches
from django.template import engines
from django.test import RequestFactory
from django.urls import reverse
from wagtail.models import Page

from wagtail_kollus.accounts import contents_client, kollus_client
from wagtail_kollus.api.errors import KollusAPIError
from wagtail_kollus.models import (
    CallbackDelivery,
    KollusMedia,
    KollusVideo,
    MediaState,
    PageContentLink,
)
from wagtail_kollus.sandbox.testing import SandboxServer

from .factories import make_progress
from .security_support import (
    ADMIN_URLS,
    SANDBOX_KEYS,
    SECRETS,
    concrete_url,
    find_secrets,
    response_text,
    sandbox_choice,
)

ALWAYS_SECRET = (
    "CONTENTS_API_KEY",
    "KOLLUS_ACCESS_TOKEN",
    "KOLLUS_SECURITY_KEY",
    "KOLLUS_SERVICE_ACCOUNT_KEY",
    "CALLBACK_TOKEN",
)
ALL_SECRETS = tuple(SECRETS)

# Fault scenarios: (name, fault options for every endpoint, or a special).
SCENARIOS = {
    "ok": None,
    "401": {"status": 401},
    "500": {"status": 500},
    "html": {"status": 200, "body": "html"},
    "malformed": {"status": 200, "body": "malformed_json"},
    "timeout": {"latency": 1.0},
    "reset": {"reset": True},
    "refused": "refused",
}


@pytest.fixture(scope="module")
def secret_sandbox() -> Iterator[SandboxServer]:
    server = SandboxServer(callback_delay=0.2, **SANDBOX_KEYS).start()
    yield server
    server.stop()


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def configured(secret_sandbox, settings, db):
    secret_sandbox.reset()
    caches["default"].clear()
    settings.WAGTAIL_KOLLUS = secret_sandbox.kollus_settings(
        CALLBACK_TOKEN=SECRETS["CALLBACK_TOKEN"],
        KOLLUS_RATE_LIMIT_PER_SECOND=1000,
        KOLLUS_RATE_LIMIT_PER_MINUTE=60000,
        READ_TIMEOUT=0.4,
        CONNECT_TIMEOUT=0.4,
        MAX_RETRIES=0,
        STATS_REQUEST_RETRIES=0,
    )
    yield secret_sandbox
    secret_sandbox.reset()
    caches["default"].clear()


def inject(server: SandboxServer, scenario: str, settings) -> None:
    fault = SCENARIOS[scenario]
    if fault == "refused":
        base = closed_port_url()
        settings.WAGTAIL_KOLLUS = {
            **settings.WAGTAIL_KOLLUS,
            "CONTENTS_API_URL": base + "/api/public/v1",
            "KOLLUS_API_URL": base + "/kollus",
        }
    elif fault:
        server.faults.set("*", **fault)


@pytest.fixture
def logs(caplog):
    # Template variable lookups at DEBUG are noise, and hold no request data. (First: each
    # set_level also sets the capturing handler's level, so DEBUG must come last.)
    caplog.set_level(logging.INFO, logger="django.template")
    for name in ("django", "django.request", "wagtail_kollus", "urllib3", "requests", "wagtail"):
        caplog.set_level(logging.DEBUG, logger=name)
    caplog.set_level(logging.DEBUG)
    assert caplog.handler.level == logging.DEBUG
    return caplog


def crashed(response) -> bool:
    """A 5xx that is not a deliberate gateway answer (JSON saying the remote API failed)."""
    if response.status_code < 500:
        return False
    deliberate = response.status_code in (502, 503, 504) and response.get(
        "Content-Type", ""
    ).startswith("application/json")
    return not deliberate


def log_text(caplog) -> str:
    parts = [caplog.text]
    for record in caplog.records:
        parts.append(record.getMessage())
        parts.append(repr(record.args))
        if record.exc_info and record.exc_info[1] is not None:
            parts.append("".join(traceback.format_exception(record.exc_info[1])))
    return "\n".join(parts)


def plugin_log_text(caplog) -> str:
    return "\n".join(
        record.getMessage()
        + ("".join(traceback.format_exception(record.exc_info[1])) if record.exc_info else "")
        for record in caplog.records
        if record.name.startswith("wagtail_kollus")
    )


class _CallbackPanel(HTMLParser):
    """Splits a page into the callback-URL panel and everything else."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth = 0
        self.inside: list[str] = []
        self.outside: list[str] = []

    def handle_starttag(self, tag, attrs):
        if self.depth:
            self.depth += tag == "details"
        elif tag == "details" and "data-kollus-callback-urls" in dict(attrs):
            self.depth = 1
        (self.inside if self.depth else self.outside).append(f"<{tag} {attrs}>")

    def handle_endtag(self, tag):
        if self.depth and tag == "details":
            self.depth -= 1

    def handle_data(self, data):
        (self.inside if self.depth else self.outside).append(data)


def split_callback_panel(html: str) -> tuple[str, str]:
    parser = _CallbackPanel()
    parser.feed(html)
    return "".join(parser.inside), "".join(parser.outside)


# --- objects ---------------------------------------------------------------------------------------


@pytest.fixture
def objects(configured, django_user_model):
    server = configured
    with server.state.lock:
        ufk, remote = next(
            (k, m) for k, m in server.state.media.items() if m["stage"] == "completed"
        )
    media = KollusMedia.objects.create(
        title=remote["title"],
        upload_file_key=ufk,
        state=MediaState.READY,
        media_content_key=remote["channels"][0]["media_content_key"],
        channels=remote["channels"],
        error_message="",
    )
    home = Page.objects.get(depth=2)
    PageContentLink.objects.create(page=home, page_key=home.pk, page_type="testapp.videopage")
    content_id, item_id = sandbox_choice(server)
    superuser = django_user_model.objects.create_superuser("root", "root@example.com", "pw")
    failed = CallbackDelivery.objects.create(
        kind="upload",
        fingerprint="f" * 64,
        upload_file_key=ufk,
        payload={"upload_file_key": ufk},
        status="failed",
    )
    video = KollusVideo.objects.create(title="Chosen", media_content_key=media.media_content_key)
    # A row for the refused plays report, so that its sweep renders a listing, not "none yet".
    from wagtail_kollus.models import RefusedPlay

    RefusedPlay.objects.create(
        page=home,
        cuid="anon-walk",
        media_content_key="mck-chosen",
        kind=1,
        reason="login_required",
        message="Log in to watch this video.",
    )
    make_progress(superuser, home, media.media_content_key, percent=40)
    return {
        "user_id": superuser.pk,
        "video_id": video.pk,  # the chosen-video preview page signs a player URL
        "pk": media.pk,
        "delivery_id": failed.pk,
        "upload_file_key": ufk,
        "page_id": home.pk,
        "content_id": content_id,
        "chooser_pk": f"{content_id}-{item_id}",
        "superuser": superuser,
        "media": media,
    }


def admin_requests(objects) -> Iterator[tuple[str, str, str, dict]]:
    """(name, method, url, data) of every admin screen and action of the walk."""
    for name, rule in sorted(ADMIN_URLS.items()):
        url = concrete_url(name, objects)
        for method in rule.superuser_methods:
            yield name, method, url, rule.data
    # Search and filter variants reach the remote APIs with more parameters.
    yield "chooser search", "get", reverse("kollus_video_chooser:choose") + "?q=lesson", {}
    yield (
        "chooser results",
        "get",
        reverse("kollus_video_chooser:choose_results") + "?q=lesson&p=2&language=en",
        {},
    )
    yield "stats custom", "get", reverse("wagtail_kollus_stats:report") + "?period=365", {}
    yield "dashboard", "get", reverse("wagtailadmin_home"), {}
    yield "page editor", "get", reverse("wagtailadmin_pages:edit", args=(objects["page_id"],)), {}


@pytest.mark.django_db
@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_admin_screens_never_show_secrets(scenario, client, objects, configured, settings, logs):
    inject(configured, scenario, settings)
    client.force_login(objects["superuser"])
    seen_panel = False
    for name, method, url, data in admin_requests(objects):
        response = getattr(client, method)(url, data)
        assert not crashed(response), (scenario, name, response.status_code)
        text = response_text(response)
        panel, rest = split_callback_panel(text)
        if panel:
            # The superuser-only panel: the callback token, and nothing else secret.
            seen_panel = seen_panel or SECRETS["CALLBACK_TOKEN"] in panel
            assert find_secrets(panel, ALL_SECRETS) in ([], ["CALLBACK_TOKEN"]), (name, scenario)
        leaked = find_secrets(rest, ALL_SECRETS)
        assert not leaked, f"{scenario}: {name} ({url}) shows {leaked}"
    assert seen_panel, "the superuser's callback URL panel was not rendered"
    leaked = find_secrets(plugin_log_text(logs), ALL_SECRETS)
    assert not leaked, f"{scenario}: plugin log records hold {leaked}"


@pytest.mark.django_db
@pytest.mark.parametrize("scenario", ["ok", "500"])
def test_no_logger_at_all_records_a_secret(scenario, client, objects, configured, settings, logs):
    """Every logger, DEBUG: what a site with verbose logging would ship to its log store."""
    inject(configured, scenario, settings)
    client.force_login(objects["superuser"])
    for _name, method, url, data in admin_requests(objects):
        getattr(client, method)(url, data)
    leaked = find_secrets(log_text(logs), ALL_SECRETS)
    assert not leaked, f"{scenario}: log records hold {leaked}"


# --- clients' exceptions -------------------------------------------------------------------------


def client_calls(objects):
    contents = contents_client(rate_limiter=None)
    kollus = kollus_client(rate_limiter=None)
    from datetime import date, timedelta

    today = date.today()
    ufk = objects["upload_file_key"]
    return [
        ("contents.list", lambda: contents.list_contents(search="x")),
        ("contents.get", lambda: contents.get_content(objects["content_id"])),
        ("contents.update", lambda: contents.update_content(objects["content_id"], {"title": "t"})),
        ("contents.create", lambda: contents.create_content({"title": "t"})),
        ("contents.categories", lambda: contents.list_categories()),
        ("kollus.upload_url", lambda: kollus.create_upload_url(title="t")),
        ("kollus.media_list", lambda: kollus.list_media()),
        ("kollus.media", lambda: kollus.get_media(ufk)),
        ("kollus.update", lambda: kollus.update_media(ufk, title="t")),
        ("kollus.attach", lambda: kollus.attach_to_channel("sandbox-channel", ufk)),
        ("kollus.categories", lambda: kollus.list_categories()),
        ("kollus.summary", lambda: kollus.summary_daily(today - timedelta(days=5), today)),
        ("kollus.rank", lambda: kollus.content_rank(today - timedelta(days=5), today)),
    ]


def exception_text(error: BaseException) -> str:
    parts = [str(error), repr(error), "".join(traceback.format_exception(error))]
    describe = getattr(error, "describe", None)
    if callable(describe):
        parts.append(str(describe()))
    parts.append(repr(vars(error)))
    return "\n".join(parts)


def context_text(error: BaseException) -> str:
    """The exceptions chained behind ``error``, even a suppressed context (``raise … from
    None`` hides it from tracebacks, but it stays reachable: debuggers, error trackers and
    ``logger.exception`` handlers that walk ``__context__`` show it)."""
    parts = []
    context = error.__context__
    while context is not None:
        parts.append(repr(context))
        parts.append(str(context))
        context = context.__context__
    return "\n".join(parts)


@pytest.mark.django_db
@pytest.mark.parametrize("scenario", [s for s in SCENARIOS if s != "ok"])
def test_client_exceptions_never_hold_a_secret(scenario, objects, configured, settings, logs):
    inject(configured, scenario, settings)
    raised = 0
    for name, call in client_calls(objects):
        try:
            call()
        except KollusAPIError as error:
            raised += 1
            leaked = find_secrets(exception_text(error), ALL_SECRETS)
            assert not leaked, f"{scenario}: {name} raised {type(error).__name__} holding {leaked}"
        except ValueError as error:  # a client-side refusal, before any HTTP
            assert not find_secrets(exception_text(error), ALL_SECRETS)
    assert raised, "no call failed: the fault was not injected"
    leaked = find_secrets(plugin_log_text(logs), ALL_SECRETS)
    assert not leaked, f"{scenario}: plugin log records hold {leaked}"


@pytest.mark.django_db
def test_api_clients_reprs_hold_no_secret(configured):
    for client in (contents_client(), kollus_client()):
        text = repr(client) + repr(getattr(client, "session", ""))
        assert not find_secrets(text, ALL_SECRETS), text


# --- front end -----------------------------------------------------------------------------------


def jwt_payload(url: str) -> dict:
    from urllib.parse import parse_qs, urlsplit

    token = parse_qs(urlsplit(url).query)["jwt"][0]
    body = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def render_tag(snippet: str, context: dict, request) -> str:
    template = engines["django"].from_string("{% load kollus %}" + snippet)
    return template.render({**context, "request": request}, request)


@pytest.mark.django_db
def test_player_html_holds_no_secret_and_cache_safe_html_not_even_the_custom_key(
    objects, configured, logs
):
    request = RequestFactory().get("/")
    from django.contrib.auth.models import AnonymousUser
    from django.contrib.sessions.backends.db import SessionStore

    request.user = AnonymousUser()
    request.session = SessionStore()
    video = KollusVideo.objects.create(
        title="Lesson",
        media_content_key=objects["media"].media_content_key,
        content_id=1,
        item_id=1,
    )
    gone = KollusVideo.objects.create(
        title="Gone", media_content_key="mck-gone", content_id=2, item_id=2, is_available=False
    )
    render_time = render_tag("{% kollus_player v cache_safe=False %}", {"v": video}, request)
    assert "<iframe" in render_time and "jwt=" in render_time
    assert not find_secrets(render_time, ALWAYS_SECRET)
    # The custom key is in the player URL by Kollus's design; the JWT body holds no secret.
    assert find_secrets(render_time, ("KOLLUS_CUSTOM_KEY",)) == ["KOLLUS_CUSTOM_KEY"]
    src = render_time.split('src="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    assert not find_secrets(json.dumps(jwt_payload(src)), ALL_SECRETS)

    for snippet in (
        "{% kollus_player v cache_safe=True %}",
        "{% kollus_player key cache_safe=True %}",
        "{% kollus_player gone %}",
        "{% kollus_player gone cache_safe=True %}",
        "{% kollus_player None %}",
    ):
        html = render_tag(snippet, {"v": video, "key": "mck-any", "gone": gone}, request)
        assert html.strip(), snippet
        assert not find_secrets(html, ALL_SECRETS), (snippet, find_secrets(html, ALL_SECRETS))
    leaked = find_secrets(log_text(logs), ALWAYS_SECRET)
    assert not leaked, leaked


@pytest.mark.django_db
@pytest.mark.parametrize("cache_safe", [False, True])
def test_page_with_the_block_and_the_token_endpoint_hold_no_secret(
    cache_safe, client, objects, configured, settings, logs
):
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "CACHE_SAFE_PLAYBACK": cache_safe}
    from tests.testapp.models import VideoPage

    video = KollusVideo.objects.create(
        title="Lesson",
        media_content_key=objects["media"].media_content_key,
        content_id=1,
        item_id=1,
    )
    gone = KollusVideo.objects.create(
        title="Gone", media_content_key="mck-gone", content_id=2, item_id=2, is_available=False
    )
    blocks = [
        {
            "type": "video",
            "value": {
                "video": v.pk,
                "autoplay": False,
                "mute": False,
                "start_time": 0,
                "allow_seek": True,
                "disable_playrate": False,
                "title_override": "",
            },
        }
        for v in (video, gone)
    ]
    page = Page.objects.get(depth=2).add_child(
        instance=VideoPage(title="Player page", slug="player-page", body=json.dumps(blocks))
    )
    response = client.get(page.url)
    assert response.status_code == 200
    html = response_text(response)
    assert not find_secrets(html, ALWAYS_SECRET)
    if cache_safe:
        assert "data-kollus-reference" in html
        assert not find_secrets(html, ("KOLLUS_CUSTOM_KEY",)), "custom key in cache-safe HTML"
        reference = html.split('data-kollus-reference="', 1)[1].split('"', 1)[0]
        token = client.get(reverse("wagtail_kollus:player_token"), {"reference": reference})
        assert token.status_code == 200
        answer = response_text(token)
        # The minted URL carries the custom key (Kollus's design), never another secret.
        assert not find_secrets(answer, ALWAYS_SECRET)
        assert not find_secrets(json.dumps(jwt_payload(token.json()["url"])), ALL_SECRETS)
        # Error answers too.
        for bad in ("", "garbage", reference[:-2]):
            error = client.get(reverse("wagtail_kollus:player_token"), {"reference": bad})
            assert error.status_code in (400, 403)
            assert not find_secrets(response_text(error), ALL_SECRETS)
    # The headless outputs: API v2 and, where wagtail-grapple is installed, GraphQL.
    headless = [client.get(f"/api/v2/pages/{page.pk}/")]
    if django_apps.is_installed("grapple"):
        query = "query($id: ID!) { page(id: $id) { ... on VideoPage { body { ... on KollusVideoBlock { player { url reference tokenUrl message } } } } } }"
        headless.append(client.post("/graphql/", {"query": query, "variables": {"id": page.pk}},
                                    content_type="application/json"))
    for answer in headless:
        assert answer.status_code == 200 and "player" in response_text(answer)
        assert ("jwt=" in response_text(answer)) is not cache_safe  # minted unless cache-safe
        assert not find_secrets(response_text(answer), ALWAYS_SECRET)
        if cache_safe:  # a reference, as in cache-safe HTML: not even the custom key
            assert not find_secrets(response_text(answer), ("KOLLUS_CUSTOM_KEY",))
    # The cached-page view of the test app renders the tag in cache-safe mode.
    cached = client.get(reverse("cached_player_page"), {"video": video.pk, "x": cache_safe})
    assert not find_secrets(response_text(cached), ALL_SECRETS)
    leaked = find_secrets(log_text(logs), ALWAYS_SECRET)
    assert not leaked, leaked


@pytest.mark.django_db
def test_player_not_configured_logs_no_secret(objects, configured, settings, logs, client):
    # A half-configured site: the warning says what is missing, never what is set.
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "KOLLUS_SECURITY_KEY": ""}
    request = RequestFactory().get("/")
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    html = render_tag("{% kollus_player 'mck-x' cache_safe=False %}", {}, request)
    assert "kollus-player--unavailable" in html
    assert not find_secrets(html + log_text(logs), ALL_SECRETS)


# --- callbacks -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_refused_and_malformed_callbacks_log_no_secret(client, configured, logs):
    token = SECRETS["CALLBACK_TOKEN"]
    account = SECRETS["KOLLUS_SERVICE_ACCOUNT_KEY"]
    good = reverse("wagtail_kollus:callback-transcoding", kwargs={"token": token})
    wrong = reverse("wagtail_kollus:callback-transcoding", kwargs={"token": token + "x"})
    cases = [
        (
            wrong,
            {
                "content_provider_key": account,
                "upload_file_key": "u",
                "transcoding_result": "success",
            },
        ),
        (good, {"content_provider_key": account + "x", "upload_file_key": "u"}),
        (
            good,
            {
                "content_provider_key": account,
                "upload_file_key": "u",
                "transcoding_result": "maybe",
            },
        ),
        (good, {"content_provider_key": account, "upload_file_key": "u" * 2000}),
    ]
    for url, form in cases:
        response = client.post(url, form)
        assert response.status_code in (400, 403)
        assert not find_secrets(response_text(response), ALL_SECRETS)
    response = client.post(good, "not a form", content_type="application/json")
    assert response.status_code == 400
    leaked = find_secrets(log_text(logs), ALL_SECRETS)
    assert not leaked, leaked


@pytest.mark.django_db
def test_callback_url_hit_with_get_logs_no_token(client, configured, logs):
    url = reverse("wagtail_kollus:callback-upload", kwargs={"token": SECRETS["CALLBACK_TOKEN"]})
    assert client.get(url).status_code == 405
    leaked = find_secrets(log_text(logs), ("CALLBACK_TOKEN",))
    assert not leaked, "the callback token was logged"


@pytest.mark.django_db
def test_transport_errors_do_not_keep_the_unredacted_exception(objects, configured, settings):
    inject(configured, "refused", settings)
    with pytest.raises(KollusAPIError) as caught:
        kollus_client(rate_limiter=None).create_upload_url(title="t")
    leaked = find_secrets(context_text(caught.value), ALL_SECRETS)
    assert not leaked, f"the chained context holds {leaked}"


@pytest.mark.django_db
def test_accepted_callbacks_do_not_store_the_service_account_key(client, configured):
    url = reverse("wagtail_kollus:callback-upload", kwargs={"token": SECRETS["CALLBACK_TOKEN"]})
    form = {"content_provider_key": SECRETS["KOLLUS_SERVICE_ACCOUNT_KEY"], "upload_file_key": "u1"}
    assert client.post(url, form).status_code == 200
    from wagtail_kollus.models import CallbackDelivery

    stored = json.dumps([d.payload for d in CallbackDelivery.objects.all()])
    assert "u1" in stored
    assert not find_secrets(stored, ALL_SECRETS), "the service account key is stored"


# Requests that Django itself answered (or logged) before the callback view had its say, each
# of which wrote the full callback URL, token included, to django.request / django.security.
def _callback_requests(token: str, account: str) -> list[tuple[str, str, str, bytes, str, int]]:
    """(name, method, path, body, content type, expected status)."""
    from urllib.parse import urlencode

    good = reverse("wagtail_kollus:callback-upload", kwargs={"token": token})
    form = {"content_provider_key": account, "upload_file_key": "ufk-log", "filename": "강의"}
    urlencoded = "application/x-www-form-urlencoded"
    lms = reverse("wagtail_kollus:callback-progress", kwargs={"token": token})
    forged_report = json.dumps(
        {
            "user_info": {"client_user_id": "user-x"},
            "content_info": {"media_content_key": "k", "last_position": 10},
            "uservalues": {"uservalue9": "forged." + token},
        }
    )
    return [
        ("multipart without boundary", "POST", good, b"x", "multipart/form-data", 400),
        ("EUC-KR form", "POST", good, urlencode(form, encoding="euc-kr").encode(),
         f"{urlencoded}; charset=EUC-KR", 200),
        ("EUC-KR form, UTF-8 bytes", "POST", good, urlencode(form).encode(),
         f"{urlencoded}; charset=EUC-KR", 200),
        ("too many fields", "POST", good, "&".join(f"f{n}=1" for n in range(1100)).encode(),
         urlencoded, 400),
        ("unknown kind", "POST", good.replace("/upload/", "/no-such-kind/"),
         urlencode(form).encode(), urlencoded, 404),
        ("no kind", "POST", good.replace("/upload/", "/"), urlencode(form).encode(), urlencoded,
         404),
        ("no trailing slash", "POST", good.rstrip("/"), urlencode(form).encode(), urlencoded, 200),
        ("no trailing slash, GET", "GET", good.rstrip("/"), b"", urlencoded, 405),
        # Kollus's LMS callback: forged and malformed reports are read and ignored (200, so
        # Kollus does not retry them), a wrong token is refused, all without a trace of it.
        ("LMS report, malformed", "POST", lms, urlencode({"json_data": "{"}).encode(),
         urlencoded, 200),
        ("LMS report, forged context", "POST", lms.rstrip("/"),
         urlencode({"json_data": forged_report}).encode(), urlencoded, 200),
        ("LMS report, wrong token", "POST", lms.replace(token, token[:-1] + "x"),
         urlencode({"json_data": forged_report}).encode(), urlencoded, 403),
        ("LMS report, GET", "GET", lms, b"", urlencoded, 405),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [False, True])
def test_callback_requests_django_would_log_leave_no_token_in_any_log(
    client, configured, settings, logs, debug
):
    """Every logger at DEBUG, SQL included (DEBUG=True logs each query with its parameters)."""
    settings.DEBUG = debug
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "PROGRESS_TRACKING": True}
    logs.set_level(logging.DEBUG, logger="django.db.backends")
    token, account = SECRETS["CALLBACK_TOKEN"], SECRETS["KOLLUS_SERVICE_ACCOUNT_KEY"]
    client.raise_request_exception = False
    answers = {}
    for name, method, path, body, content_type, _expected in _callback_requests(token, account):
        response = client.generic(method, path, body, content_type=content_type)
        answers[name] = response.status_code
        assert not find_secrets(response_text(response), ("CALLBACK_TOKEN",)) or debug, name
    expected = {name: status for name, *_, status in _callback_requests(token, account)}
    assert answers == expected
    if debug:
        # Masked, not silenced: with DEBUG every SQL query is logged, and Wagtail's redirect
        # middleware looks each 404's path up in its table.
        sql = [r.getMessage() for r in logs.records if r.name == "django.db.backends"]
        assert any("/kollus/callbacks/[redacted]/[redacted]" in query for query in sql)
    leaked = find_secrets(log_text(logs), ALL_SECRETS)
    assert not leaked, f"log records hold {leaked}"


@pytest.mark.parametrize(
    "logger_name",
    ["django.request", "django.security.csrf", "django.security.DisallowedHost",
     "django.server", "django.db.backends", "gunicorn.access"],
)
def test_records_of_loggers_that_print_paths_are_masked_as_they_are_made(
    configured, logs, logger_name
):
    """Whatever logs a callback URL on Django's or a server's loggers (a CSRF refusal, a 404 of
    the site, runserver's access line, a query's parameters) is masked before any handler."""
    token = SECRETS["CALLBACK_TOKEN"]
    path = reverse("wagtail_kollus:callback-transcoding", kwargs={"token": token})
    logger = logging.getLogger(logger_name)
    logger.warning("Forbidden (CSRF cookie not set.): %s", path)
    logger.warning('"POST %s HTTP/1.1" 301 0', path.rstrip("/") + "?x=1")
    logger.warning("(0.001) SELECT 1 WHERE p = %s; args=%s", path, (path, 1))
    logger.warning("Not Found: %s", f"/kollus/callbacks/{token[:5]}-not-the-token/")
    messages = [r.getMessage() for r in logs.records if r.name == logger_name]
    assert messages == [
        "Forbidden (CSRF cookie not set.): /kollus/callbacks/transcoding/[redacted]/",
        '"POST /kollus/callbacks/transcoding/[redacted]?x=1 HTTP/1.1" 301 0',
        "(0.001) SELECT 1 WHERE p = /kollus/callbacks/transcoding/[redacted]/; "
        "args=('/kollus/callbacks/transcoding/[redacted]/', 1)",
        # A wrong or old token is masked too: it is a path segment where the token goes.
        "Not Found: /kollus/callbacks/[redacted]/",
    ]
    # Other loggers are the plugin's business (or not about requests): left as they are.
    logging.getLogger("myproject.views").warning("path %s", "/kollus/callbacks/upload/abc/")
    assert logs.records[-1].getMessage() == "path /kollus/callbacks/upload/abc/"


@pytest.mark.django_db
def test_the_play_callback_answers_and_logs_no_secret(client, configured, settings, logs):
    """Its answers carry the custom key (Kollus asks for it in ``X-KOLLUS-USERKEY``) and a JWT
    signed with the security key, but no secret itself, whoever asks; its logs none at all."""
    from wagtail_kollus.playback.viewer import Viewer, sign_play_context, user_viewer_id

    viewer_id_key = "SEKRIT-viewer-id-key-0ddba11"
    settings.WAGTAIL_KOLLUS = {
        **settings.WAGTAIL_KOLLUS,
        "VIEWER_ID_KEY": viewer_id_key,
        "PLAYBACK_MAX_STREAMS": 1,
    }
    token = SECRETS["CALLBACK_TOKEN"]
    viewer = Viewer(cuid=user_viewer_id(7), user_id=7)
    good_form = {
        "kind": "1",
        "client_user_id": viewer.cuid,
        "media_content_key": "mck-1",
        "hardware_id": "d",
        "uservalues": json.dumps({"uservalue9": sign_play_context(viewer, None, "mck-1")}),
    }
    good = reverse("wagtail_kollus:callback-play", kwargs={"token": token})
    wrong = reverse("wagtail_kollus:callback-play", kwargs={"token": token + "x"})
    responses = [
        client.post(good, good_form),
        client.post(good, {**good_form, "hardware_id": "other"}),  # over the limit
        client.post(good, {**good_form, "uservalues": "{}"}),
        client.post(wrong, good_form),
        client.get(good),
    ]
    assert [r.status_code for r in responses] == [200, 200, 200, 403, 405]
    secrets = tuple(name for name in ALWAYS_SECRET)
    for response in responses:
        text = response_text(response)
        assert not find_secrets(text, secrets), find_secrets(text, secrets)
        assert viewer_id_key not in text
    text = log_text(logs)
    assert not find_secrets(text, ALL_SECRETS), find_secrets(text, ALL_SECRETS)
    assert viewer_id_key not in text
