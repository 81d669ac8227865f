"""Pure parts of the HTTP layer: Retry-After, field errors, backoff maths."""

from datetime import UTC, datetime
from email.utils import format_datetime

import pytest

from wagtail_kollus.api.http import ApiSession, parse_field_errors, parse_retry_after


def test_retry_after_seconds():
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("1.5") == 1.5


def test_retry_after_http_date():
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    header = format_datetime(datetime(2026, 1, 1, 12, 0, 20, tzinfo=UTC), usegmt=True)
    assert parse_retry_after(header, now=now.timestamp()) == pytest.approx(20.0)


def test_retry_after_in_the_past_or_garbage():
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    past = format_datetime(datetime(2025, 1, 1, tzinfo=UTC), usegmt=True)
    assert parse_retry_after(past, now=now.timestamp()) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_laravel_field_errors():
    body = {
        "message": "The title field is required.",
        "errors": {"title": ["required"], "x": "bad"},
    }
    assert parse_field_errors(body) == {"title": ["required"], "x": ["bad"]}


def test_kollus_error_body_becomes_non_field_error():
    assert parse_field_errors({"error": 1, "message": "invalid date"}) == {
        "__all__": ["invalid date"]
    }
    assert parse_field_errors("<html>") == {}


@pytest.mark.parametrize("attempt", range(6))
def test_backoff_is_full_jitter_and_capped(attempt):
    session = ApiSession("t", "http://x", backoff_factor=0.5, backoff_max=4.0, jitter=lambda: 1.0)
    assert session._backoff(attempt) == min(4.0, 0.5 * 2**attempt)
    low = ApiSession("t", "http://x", backoff_factor=0.5, backoff_max=4.0, jitter=lambda: 0.0)
    assert low._backoff(attempt) == 0.0


def test_credentials_only_go_to_own_host():
    session = ApiSession("t", "http://api.example/kollus")
    assert session.url_for("/api/x") == ("http://api.example/kollus/api/x", True)
    assert session.url_for("http://api.example/kollus/api/x")[1] is True
    assert session.url_for("http://upload.example/abc")[1] is False
    assert session.url_for("http://api.example/kollus-upload/abc")[1] is False
