"""Secrets never reach messages, reprs or logs (pure: no network)."""

import logging

import pytest

from wagtail_kollus.accounts import contents_client, kollus_client
from wagtail_kollus.api.errors import UnavailableError
from wagtail_kollus.api.http import ApiSession
from wagtail_kollus.api.redaction import REDACTED, redact
from wagtail_kollus.api.vod import KollusClient

TOKEN = "tok-SECRET-1234567890"


def test_access_token_in_query_is_masked():
    text = redact(f"GET https://c-api-kr.kollus.com/api/media-contents?page=2&access_token={TOKEN}")
    assert TOKEN not in text
    assert "page=2" in text and f"access_token={REDACTED}" in text


def test_configured_secret_is_masked_anywhere():
    assert redact(f"the key is {TOKEN}!", [TOKEN]) == f"the key is {REDACTED}!"


def test_bearer_token_is_masked():
    assert TOKEN not in redact(f"Authorization: Bearer {TOKEN}")


def test_client_repr_has_no_token():
    client = KollusClient("http://127.0.0.1:9/kollus", TOKEN, rate_limiter=None)
    assert TOKEN not in repr(client)
    assert TOKEN not in repr(client.http)


def test_connection_error_message_and_log_have_no_token(caplog):
    # Port 9 (discard) is closed on test machines: the connection is refused at once.
    session = ApiSession(
        "kollus",
        "http://127.0.0.1:9/kollus",
        auth_params={"access_token": TOKEN},
        max_retries=0,
    )
    with (
        caplog.at_level(logging.DEBUG, logger="wagtail_kollus.api"),
        pytest.raises(UnavailableError) as info,
    ):
        session.request("GET", "/api/media-contents")
    assert TOKEN not in str(info.value)
    assert TOKEN not in repr(info.value)
    # No chained exception at all: the requests error (its text holds the full URL) is not
    # reachable as __cause__ or __context__.
    assert info.value.__cause__ is None and info.value.__context__ is None
    assert "127.0.0.1" in str(info.value)
    assert caplog.records, "the failed request is logged at DEBUG"
    assert all(TOKEN not in r.getMessage() for r in caplog.records)


def test_factories_redact_every_configured_secret(settings):
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "KOLLUS_SECURITY_KEY": "sec-key-987654"}
    for client in (contents_client(), kollus_client(rate_limiter=None)):
        assert "sec-key-987654" in client.http.secrets
        error = UnavailableError(
            "echo sec-key-987654", url="http://h/?x=sec-key-987654", secrets=client.http.secrets
        )
        assert "sec-key-987654" not in str(error)
