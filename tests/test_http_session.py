"""ApiSession over real HTTP to the sandbox: retries, Retry-After, POST safety, error mapping."""

import socket
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from wagtail_kollus.api.errors import (
    AuthenticationError,
    BadResponseError,
    KollusAPIError,
    RateLimitedError,
    UnavailableError,
    ValidationError,
)
from wagtail_kollus.api.http import ApiSession


class Sleeps(list):
    """A fake ``sleep`` that records the waits instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def kollus_session(sandbox, **kw) -> ApiSession:
    kw.setdefault("sleep", Sleeps())
    kw.setdefault("max_retries", 3)
    kw.setdefault("backoff_factor", 0.5)
    kw.setdefault("backoff_max", 30.0)
    return ApiSession(
        "kollus",
        sandbox.kollus_api_url,
        auth_params={"access_token": sandbox.keys.access_token},
        **kw,
    )


def test_get_is_retried_on_503_then_succeeds(sandbox):
    sandbox.faults.set("kollus.media_list", status=503, times=2)
    session = kollus_session(sandbox, jitter=lambda: 1.0)
    response = session.request("GET", "/api/media-contents")
    assert response.status_code == 200
    assert sandbox.request_count("kollus.media_list") == 3
    assert session.sleep == [0.5, 1.0]  # factor * 2**attempt (jitter pinned to its maximum)


def test_retry_after_seconds_is_honoured(sandbox):
    sandbox.faults.set("kollus.media_list", status=429, retry_after=7, times=1)
    session = kollus_session(sandbox)
    session.request("GET", "/api/media-contents")
    assert session.sleep == [7.0]


def test_retry_after_http_date_is_honoured(sandbox):
    when = datetime.now(UTC) + timedelta(seconds=20)
    sandbox.faults.set(
        "kollus.media_list", status=503, retry_after=format_datetime(when, usegmt=True), times=1
    )
    session = kollus_session(sandbox, wall_clock=lambda: when.timestamp() - 20)
    session.request("GET", "/api/media-contents")
    assert session.sleep == [pytest.approx(20, abs=1)]


def test_retry_after_beyond_the_cap_raises_instead_of_blocking(sandbox):
    sandbox.faults.set("kollus.media_list", status=429, retry_after=120)
    session = kollus_session(sandbox, backoff_max=30)
    with pytest.raises(RateLimitedError) as info:
        session.request("GET", "/api/media-contents")
    assert info.value.retry_after == 120
    assert info.value.retryable
    assert session.sleep == []
    assert sandbox.request_count("kollus.media_list") == 1


def test_gives_up_after_max_retries(sandbox):
    sandbox.faults.set("kollus.media_list", status=502)
    session = kollus_session(sandbox, max_retries=2)
    with pytest.raises(UnavailableError) as info:
        session.request("GET", "/api/media-contents")
    assert info.value.status_code == 502
    assert sandbox.request_count("kollus.media_list") == 3
    assert len(session.sleep) == 2


def test_500_is_not_retried(sandbox):
    sandbox.faults.set("kollus.media_list", status=500)
    session = kollus_session(sandbox)
    with pytest.raises(UnavailableError):
        session.request("GET", "/api/media-contents")
    assert sandbox.request_count("kollus.media_list") == 1


def test_post_is_not_retried_on_503(sandbox):
    sandbox.faults.set("kollus.upload_create_url", status=503, times=1)
    session = kollus_session(sandbox)
    with pytest.raises(UnavailableError):
        session.request("POST", "/api/upload/create-url", data={"title": "x"})
    assert sandbox.request_count("kollus.upload_create_url") == 1


def test_post_marked_idempotent_is_retried(sandbox):
    sandbox.faults.set("kollus.upload_create_url", status=503, times=1)
    session = kollus_session(sandbox)
    response = session.request(
        "POST", "/api/upload/create-url", data={"title": "x"}, idempotent=True
    )
    assert response.status_code == 200
    assert sandbox.request_count("kollus.upload_create_url") == 2


def test_post_that_timed_out_is_not_retried(sandbox):
    # The sandbox creates the record, then answers too late: a blind retry would duplicate it.
    sandbox.faults.set("contents.create", commit_then_timeout=2.0, times=1)
    session = ApiSession(
        "contents",
        sandbox.contents_api_url,
        auth_headers={"Authorization": f"Bearer {sandbox.keys.server_key}"},
        read_timeout=0.3,
        sleep=Sleeps(),
    )
    with pytest.raises(UnavailableError, match="not retried"):
        session.request("POST", "/contents", json={"title": "x"})
    assert sandbox.request_count("contents.create") == 1
    assert session.sleep == []


def test_get_that_timed_out_is_retried(sandbox):
    sandbox.faults.set("kollus.media_list", latency=1.0, times=1)
    session = kollus_session(sandbox, read_timeout=0.3)
    assert session.request("GET", "/api/media-contents").status_code == 200
    assert sandbox.request_count("kollus.media_list") == 2
    assert len(session.sleep) == 1


def test_dropped_connection_retried_for_get(sandbox):
    sandbox.faults.set("kollus.media_list", reset=True, times=1)
    session = kollus_session(sandbox)
    assert session.request("GET", "/api/media-contents").status_code == 200
    assert len(session.sleep) == 1


def test_dropped_connection_not_retried_for_post(sandbox):
    sandbox.faults.set("kollus.upload_create_url", reset=True, times=1)
    session = kollus_session(sandbox)
    with pytest.raises(UnavailableError):
        session.request("POST", "/api/upload/create-url", data={"title": "x"})
    assert session.sleep == []


def test_connect_failure_is_retried_even_for_post():
    # A port nobody listens on: the connection is refused before anything is sent.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    session = ApiSession("kollus", f"http://127.0.0.1:{port}", max_retries=2, sleep=Sleeps())
    with pytest.raises(UnavailableError, match="could not be reached"):
        session.request("POST", "/api/upload/create-url")
    assert len(session.sleep) == 2


def test_html_and_malformed_2xx_are_bad_responses(sandbox):
    session = kollus_session(sandbox)
    sandbox.faults.set("kollus.media_list", body="html", times=1)
    with pytest.raises(BadResponseError, match="HTML"):
        session.request_json("GET", "/api/media-contents")
    sandbox.faults.set("kollus.media_list", body="malformed_json", times=1)
    with pytest.raises(BadResponseError, match="malformed"):
        session.request_json("GET", "/api/media-contents")


def test_wrong_token_is_auth_error_without_the_token(sandbox):
    session = ApiSession(
        "kollus",
        sandbox.kollus_api_url,
        auth_params={"access_token": "wrong-token-abcdef"},
        sleep=Sleeps(),
    )
    with pytest.raises(AuthenticationError) as info:
        session.request("GET", "/api/media-contents")
    assert "wrong-token-abcdef" not in str(info.value)
    assert "wrong-token-abcdef" not in info.value.url
    assert "access_token=[redacted]" in info.value.url


def test_credentials_are_not_sent_to_other_hosts(sandbox):
    session = kollus_session(sandbox)
    # The upload host lives under another prefix of the same server: not our base URL.
    session.request_json("GET", sandbox.base_url + "/kollus/api/media-contents", params={})
    other = sandbox.base_url + "/kollus-upload/unknown/progress"
    with pytest.raises(Exception):  # 404 from the upload host
        session.request("GET", other)
    logged = [r for r in sandbox.requests if "/kollus-upload/" in str(r.get("path", ""))]
    assert logged
    # The log keeps parameter names: the upload host never saw an access_token at all.
    assert all("access_token" not in r["query"] for r in logged)
    own = [r for r in sandbox.requests if r["endpoint"] == "kollus.media_list"]
    assert "access_token" in own[0]["query"]


def test_each_request_is_logged_at_debug_without_the_token(sandbox, caplog):
    import logging

    session = kollus_session(sandbox)
    with caplog.at_level(logging.DEBUG, logger="wagtail_kollus.api"):
        session.request("GET", "/api/media-contents", params={"page": 2})
    (record,) = [r for r in caplog.records if r.name == "wagtail_kollus.api"]
    line = record.getMessage()
    assert line.startswith("kollus GET ") and "-> 200 in " in line and line.endswith(" ms")
    assert "page=2" in line and "access_token=[redacted]" in line
    assert sandbox.keys.access_token not in line


def test_503_retry_after_beyond_cap_is_kept_on_the_error(sandbox):
    sandbox.faults.set("kollus.media_list", status=503, retry_after=300)
    session = kollus_session(sandbox)
    with pytest.raises(UnavailableError) as info:
        session.request("GET", "/api/media-contents")
    assert info.value.retry_after == 300
    assert session.sleep == []


def test_total_timeout_caps_reads_retries_and_backoff_together(sandbox):
    """Per-attempt timeouts alone let a hanging API hold the caller for every attempt."""
    import time

    sandbox.faults.set("kollus.media_list", latency=3.0)
    # Without a budget: four attempts of 0.4 s each (and real backoff sleeps between them).
    session = kollus_session(sandbox, read_timeout=0.4, sleep=time.sleep, jitter=lambda: 0.2)
    started = time.monotonic()
    with pytest.raises(UnavailableError, match="did not answer in time"):
        session.request("GET", "/api/media-contents")
    assert time.monotonic() - started >= 1.6
    assert sandbox.request_count("kollus.media_list") == 4

    before = sandbox.request_count("kollus.media_list")
    budget = kollus_session(
        sandbox, read_timeout=0.4, sleep=time.sleep, jitter=lambda: 0.2, total_timeout=0.9
    )
    started = time.monotonic()
    with pytest.raises(UnavailableError, match="did not answer in time"):
        budget.request("GET", "/api/media-contents")
    assert time.monotonic() - started < 1.2
    # The first attempt got its 0.4 s, the retry what was left; no third one fits.
    assert sandbox.request_count("kollus.media_list") - before == 2
    # Spent: the next call on this session fails at once, without asking.
    started = time.monotonic()
    with pytest.raises(UnavailableError, match="did not answer in time") as caught:
        budget.request("GET", "/api/media-contents")
    assert time.monotonic() - started < 0.1
    assert sandbox.request_count("kollus.media_list") - before == 2
    assert sandbox.keys.access_token not in str(caught.value)


def contents_session(sandbox, **kw) -> ApiSession:
    return ApiSession(
        "contents",
        sandbox.contents_api_url,
        auth_headers={"Authorization": f"Bearer {sandbox.keys.server_key}"},
        max_retries=0,
        sleep=Sleeps(),
        **kw,
    )


def test_the_error_says_whether_a_post_may_have_been_applied(sandbox):
    """The sync engine searches before repeating a create only when this is True."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    refused = ApiSession("contents", f"http://127.0.0.1:{port}", max_retries=0, sleep=Sleeps())
    outcomes = {}
    with pytest.raises(UnavailableError) as info:
        refused.request("POST", "/contents", json={"title": "x"})
    outcomes["refused"] = info.value.may_have_been_applied
    for name, fault in {
        "429": {"status": 429},
        "503": {"status": 503},
        "reset": {"reset": True},
        "read timeout": {"commit_then_timeout": 1.0},
        "html 200": {"body": "html"},
    }.items():
        sandbox.faults.set("contents.create", times=1, **fault)
        with pytest.raises(KollusAPIError) as info:
            contents_session(sandbox, read_timeout=0.3).request_json(
                "POST", "/contents", json={"title": "x"}
            )
        outcomes[name] = info.value.may_have_been_applied
    with pytest.raises(ValidationError) as info:  # 422: the payload lacks required fields
        contents_session(sandbox).request("POST", "/contents", json={"title": "x"})
    outcomes["422"] = info.value.may_have_been_applied
    assert outcomes == {
        "refused": False,
        "429": False,
        "503": True,
        "reset": True,
        "read timeout": True,
        "html 200": True,
        "422": False,
    }


def test_an_attempt_that_may_have_been_applied_marks_the_final_error(sandbox):
    # A GET retried after a 503 (which may have been carried out) ends on a 429 that refused
    # the retry: the error still says the call may have been applied.
    sandbox.faults.set("kollus.media_list", status=503, times=1)
    sandbox.faults.set("kollus.*", status=429, retry_after=300)
    with pytest.raises(RateLimitedError) as info:
        kollus_session(sandbox).request("GET", "/api/media-contents")
    assert sandbox.request_count("kollus.media_list") == 2
    assert info.value.may_have_been_applied is True
