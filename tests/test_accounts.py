"""``KollusAccount`` and the one factory per client (``wagtail_kollus.accounts``).

The account is read from ``WAGTAIL_KOLLUS`` with per-instance overrides, keeps its secrets out
of ``repr()``, and is what decides which credentials a call uses: the tests below give an
account other than the settings' one and watch the sandbox refuse it.
"""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest
from django.test import RequestFactory

from wagtail_kollus.accounts import KollusAccount, contents_client, kollus_client
from wagtail_kollus.api.errors import AuthenticationError, ConfigurationError
from wagtail_kollus.api.ratelimit import CacheRateLimiter
from wagtail_kollus.api.redaction import REDACTED
from wagtail_kollus.conf import DEFAULTS, SECRET_SETTINGS
from wagtail_kollus.media import services
from wagtail_kollus.media.callbacks import UploadCallbackView
from wagtail_kollus.models import CallbackDelivery, KollusMedia, MediaState

PACKAGE = Path(__file__).resolve().parent.parent / "wagtail_kollus"

SECRETS = {
    "CONTENTS_API_KEY": "contents-key-0001",
    "KOLLUS_ACCESS_TOKEN": "access-token-0002",
    "KOLLUS_SECURITY_KEY": "security-key-0003",
    "KOLLUS_CUSTOM_KEY": "custom-key-0004",
    "KOLLUS_SERVICE_ACCOUNT_KEY": "service-account-0005",
    "CALLBACK_TOKEN": "callback-token-0006-long-enough",
}


@pytest.fixture
def configured(settings):
    settings.WAGTAIL_KOLLUS = {
        **SECRETS,
        "CONTENTS_API_URL": "https://shop.example.com/api/public/v1",
        "KOLLUS_API_URL": "https://c-api-jp.kollus.com",
        "KOLLUS_API_PATHS": {"categories": "/api/v3/categories"},
        "KOLLUS_CHANNEL_KEY": "channel-1",
        "READ_TIMEOUT": 42.0,
        "MAX_RETRIES": 5,
        "KOLLUS_RATE_LIMIT_PER_SECOND": 2,
        "KOLLUS_RATE_LIMIT_PER_MINUTE": 90,
    }
    return settings


def test_every_field_is_a_setting_of_the_same_name(configured):
    account = KollusAccount.from_settings()
    for field in dataclasses.fields(KollusAccount):
        assert field.name.upper() in DEFAULTS
    assert account.contents_api_url == "https://shop.example.com/api/public/v1"
    assert account.kollus_access_token == "access-token-0002"
    assert dict(account.kollus_api_paths) == {"categories": "/api/v3/categories"}
    assert account.read_timeout == 42.0
    assert account.player_url == DEFAULTS["PLAYER_URL"]  # not set: the documented default


def test_secrets_may_come_from_the_environment(settings, monkeypatch):
    settings.WAGTAIL_KOLLUS = {"KOLLUS_ACCESS_TOKEN": ""}
    monkeypatch.setenv("WAGTAIL_KOLLUS_KOLLUS_ACCESS_TOKEN", "from-the-environment")
    assert KollusAccount.from_settings().kollus_access_token == "from-the-environment"


def test_overrides_replace_single_fields_and_unknown_names_are_refused(configured):
    account = KollusAccount.from_settings(kollus_channel_key="other", max_retries=0)
    assert account.kollus_channel_key == "other"
    assert account.max_retries == 0
    assert account.kollus_access_token == "access-token-0002"  # the rest from settings
    with pytest.raises(TypeError):
        KollusAccount.from_settings(kollus_chanel_key="typo")


def test_the_account_is_frozen_and_so_are_its_paths(configured):
    paths = {"categories": "/c"}
    account = KollusAccount(kollus_api_paths=paths)
    paths["categories"] = "/changed"
    assert account.kollus_api_paths["categories"] == "/c"
    with pytest.raises(dataclasses.FrozenInstanceError):
        account.kollus_access_token = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        account.kollus_api_paths["categories"] = "/x"  # type: ignore[index]
    assert hash(account) == hash(KollusAccount(kollus_api_paths={"other": "/o"}))


def test_repr_redacts_every_secret_and_shows_the_rest(configured):
    account = KollusAccount.from_settings()
    text = repr(account)
    for value in SECRETS.values():
        assert value not in text
    assert text.count(REDACTED) == len(SECRET_SETTINGS)
    assert "kollus_access_token='[redacted]'" in text
    assert "https://c-api-jp.kollus.com" in text and "channel-1" in text
    assert str(account) == text  # str() is repr(): no other way out
    # An unset secret says so (the difference matters when debugging a configuration).
    assert "callback_token=''" in repr(KollusAccount())


def test_secret_values_list_the_account_s_secrets_for_redaction(configured):
    assert set(KollusAccount.from_settings().secret_values()) == set(SECRETS.values())
    assert KollusAccount(kollus_access_token="abc").secret_values() == ()  # too short to mask


def test_the_factories_build_clients_from_the_account(configured):
    account = KollusAccount.from_settings()
    kollus = kollus_client(account)
    assert kollus.http.base_url == "https://c-api-jp.kollus.com"
    assert kollus.http.auth_params == {"access_token": "access-token-0002"}
    assert kollus.paths["categories"] == "/api/v3/categories"
    assert kollus.http.timeout == (DEFAULTS["CONNECT_TIMEOUT"], 42.0)
    assert kollus.http.max_retries == 5
    assert set(SECRETS.values()) <= set(kollus.http.secrets)
    limiter = kollus.http.rate_limiter
    assert isinstance(limiter, CacheRateLimiter)
    assert (limiter.per_second, limiter.per_minute) == (2, 90)
    contents = contents_client(account, max_retries=0)
    assert contents.http.base_url == "https://shop.example.com/api/public/v1"
    assert contents.http.auth_headers["Authorization"] == "Bearer contents-key-0001"
    assert contents.http.max_retries == 0  # a client option overrides the account's
    assert kollus_client(account, rate_limiter=None).http.rate_limiter is None
    assert kollus_client(KollusAccount.from_settings(
        kollus_rate_limit_per_second=0, kollus_rate_limit_per_minute=0
    )).http.rate_limiter is None


def test_a_missing_credential_is_named_before_anything_is_sent():
    with pytest.raises(ConfigurationError, match=r"WAGTAIL_KOLLUS\['KOLLUS_ACCESS_TOKEN'\]"):
        kollus_client(KollusAccount(kollus_access_token=""))
    with pytest.raises(ConfigurationError, match=r"WAGTAIL_KOLLUS\['CONTENTS_API_URL'\]"):
        contents_client(KollusAccount(contents_api_key="key-123456"))


def test_the_account_given_decides_the_credentials(sandbox):
    good = KollusAccount.from_settings(kollus_rate_limit_per_second=0, kollus_rate_limit_per_minute=0)
    assert kollus_client(good).list_categories()
    assert contents_client(good).list_contents(limit=1).pagination.total >= 0
    other = dataclasses.replace(good, kollus_access_token="another-accounts-token")
    with pytest.raises(AuthenticationError):
        kollus_client(other).list_categories()
    with pytest.raises(AuthenticationError):
        contents_client(dataclasses.replace(good, contents_api_key="another-key")).list_contents()


@pytest.mark.django_db
def test_a_service_uses_the_account_it_is_given(sandbox):
    ufk = next(iter(sandbox.state.media))  # a media the sandbox's Kollus has
    row = KollusMedia.objects.create(upload_file_key=ufk, title="t", state=MediaState.TRANSCODING)
    other = KollusAccount.from_settings(kollus_access_token="another-accounts-token")
    with pytest.raises(AuthenticationError):
        services.refresh_media(row.pk, account=other)
    row.refresh_from_db()
    assert row.state == MediaState.TRANSCODING  # nothing written with the refused account
    assert services.refresh_media(row.pk) == "refreshed"  # the settings' account


@pytest.mark.django_db
def test_a_callback_view_checks_the_account_it_was_built_with(settings):
    settings.WAGTAIL_KOLLUS = {
        "CALLBACK_TOKEN": "settings-token-0123456789",
        "KOLLUS_SERVICE_ACCOUNT_KEY": "settings-account",
    }
    account = KollusAccount(
        callback_token="second-token-0123456789", kollus_service_account_key="second-account"
    )
    view = UploadCallbackView.as_view(account=account)
    factory = RequestFactory()

    def deliver(token: str, provider: str) -> int:
        data = {"upload_file_key": "ufk-x", "content_provider_key": provider}
        request = factory.post(f"/kollus/callbacks/upload/{token}/", data)
        return view(request, token=token).status_code

    assert deliver("settings-token-0123456789", "settings-account") == 403
    assert deliver("second-token-0123456789", "settings-account") == 403
    assert deliver("second-token-0123456789", "second-account") == 200
    assert CallbackDelivery.objects.get().upload_file_key == "ufk-x"


def test_only_the_factories_construct_api_clients():
    """Everything that talks to an API asks ``accounts`` for its client (the ground for several
    accounts per site): no other module of the package calls a client class."""
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "accounts.py" and path.parent == PACKAGE:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if name in ("ContentsClient", "KollusClient", "from_settings") and not (
                name == "from_settings"
                and isinstance(func, ast.Attribute)
                and getattr(func.value, "id", "") == "KollusAccount"
            ):
                offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert offenders == []
