"""System checks of playback: the limits need a cache that counts."""

from __future__ import annotations

from django.core.checks import run_checks


def ids(settings) -> set[str]:
    return {message.id for message in run_checks()}


def test_a_rate_limit_cache_that_is_not_configured_is_an_error(settings):
    assert "wagtail_kollus.E020" not in ids(settings)
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "RATE_LIMIT_CACHE": "nowhere"}
    [error] = [m for m in run_checks() if m.id == "wagtail_kollus.E020"]
    assert "'nowhere'" in error.msg


def test_a_dummy_rate_limit_cache_is_an_error_while_a_limit_is_on(settings):
    settings.CACHES = {
        **settings.CACHES,
        "nothing": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"},
    }
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "RATE_LIMIT_CACHE": "nothing"}
    [error] = [m for m in run_checks() if m.id == "wagtail_kollus.E021"]
    assert "DummyCache" in error.msg and "Redis" in error.hint
    settings.WAGTAIL_KOLLUS = {
        **settings.WAGTAIL_KOLLUS,
        "PLAYER_TOKEN_RATE_LIMIT": 0,
        "PLAYER_TOKEN_RATE_LIMIT_PER_IP": 0,
        "KOLLUS_RATE_LIMIT_PER_SECOND": 0,
        "KOLLUS_RATE_LIMIT_PER_MINUTE": 0,
    }
    assert "wagtail_kollus.E021" not in ids(settings)


def test_a_small_database_rate_limit_cache_is_a_warning(settings):
    settings.CACHES = {
        **settings.CACHES,
        "rates": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "rates",
        },
    }
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "RATE_LIMIT_CACHE": "rates"}
    [warning] = [m for m in run_checks() if m.id == "wagtail_kollus.W021"]
    assert "at most 300 keys" in warning.msg and "MAX_ENTRIES" in warning.hint
    settings.CACHES["rates"]["OPTIONS"] = {"MAX_ENTRIES": 100_000}
    settings.CACHES = {**settings.CACHES}  # tell Django the setting changed
    assert "wagtail_kollus.W021" not in ids(settings)
