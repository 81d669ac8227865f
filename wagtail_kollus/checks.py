"""System checks: a missing or malformed ``WAGTAIL_KOLLUS`` setting is reported by
``manage.py check`` with an id and a hint, instead of as a traceback at the first request.

Missing values are warnings (a site may use only part of the plugin, and a fresh project must
still pass ``check``); values that can never work (malformed URLs, wrong types) are errors.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from .conf import DEFAULTS, SETTINGS_NAME, kollus_settings

_URL_SETTINGS = ("CONTENTS_API_URL", "KOLLUS_API_URL", "PLAYER_URL")
_NUMBER_SETTINGS = (
    "CONNECT_TIMEOUT",
    "READ_TIMEOUT",
    "BACKOFF_FACTOR",
    "BACKOFF_MAX",
    "PLAYER_TOKEN_LIFETIME",
    "CHOOSER_CACHE_TIMEOUT",
    "CALLBACK_CLAIM_SECONDS",
)
_REQUIRED_FOR = {
    "CONTENTS_API_URL": "the chooser and page sync",
    "CONTENTS_API_KEY": "the chooser and page sync",
    "KOLLUS_ACCESS_TOKEN": "uploads, the video library and statistics",
    "KOLLUS_SECURITY_KEY": "signed playback",
    "KOLLUS_CUSTOM_KEY": "signed playback",
    "KOLLUS_SERVICE_ACCOUNT_KEY": "verifying Kollus callbacks",
}


def _is_http_url(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    parsed = urlparse(value)
    return parsed.scheme in ("http", "https") and bool(parsed.netloc)


@register(Tags.compatibility)
def check_settings(app_configs: Any = None, **kwargs: Any) -> list:
    messages: list = []
    raw = getattr(settings, SETTINGS_NAME, None)
    if raw is not None and not isinstance(raw, dict):
        return [
            Error(
                f"{SETTINGS_NAME} must be a dict.",
                hint=f"Set {SETTINGS_NAME} = {{'CONTENTS_API_URL': ..., ...}} in your settings.",
                id="wagtail_kollus.E001",
            )
        ]
    for name in (raw or {}):
        if name not in DEFAULTS:
            messages.append(
                Warning(
                    f"{SETTINGS_NAME}[{name!r}] is not a known setting and is ignored.",
                    hint="See docs/configuration.md for the list of settings (check the spelling).",
                    id="wagtail_kollus.W002",
                )
            )
    for name, purpose in _REQUIRED_FOR.items():
        if not kollus_settings.get(name):
            messages.append(
                Warning(
                    f"{SETTINGS_NAME}[{name!r}] is not set; {purpose} will not work.",
                    hint=f"Set it in {SETTINGS_NAME} or in the environment variable "
                    f"WAGTAIL_KOLLUS_{name}.",
                    id="wagtail_kollus.W001",
                )
            )
    for name in _URL_SETTINGS:
        value = kollus_settings.get(name)
        if value and not _is_http_url(value):
            messages.append(
                Error(
                    f"{SETTINGS_NAME}[{name!r}] is not an http(s) URL.",
                    hint="Use a full URL such as 'https://example.com/api/public/v1' "
                    "(scheme and host, no trailing query string).",
                    id="wagtail_kollus.E002",
                )
            )
    for name in _NUMBER_SETTINGS:
        value = kollus_settings.get(name)
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            messages.append(
                Error(
                    f"{SETTINGS_NAME}[{name!r}] must be a positive number.",
                    hint=f"The default is {DEFAULTS[name]!r}.",
                    id="wagtail_kollus.E003",
                )
            )
    language = kollus_settings.get("DEFAULT_LANGUAGE")
    if language not in ("ko", "en", "ja"):
        messages.append(
            Error(
                f"{SETTINGS_NAME}['DEFAULT_LANGUAGE'] must be 'ko', 'en' or 'ja'.",
                hint="These are the languages the contents API accepts.",
                id="wagtail_kollus.E004",
            )
        )
    if not kollus_settings.get("CALLBACK_TOKEN"):
        messages.append(
            Warning(
                f"{SETTINGS_NAME}['CALLBACK_TOKEN'] is not set: Kollus callbacks are refused.",
                hint="Kollus callbacks carry no signature. Set a long random CALLBACK_TOKEN; it "
                "becomes part of the callback URLs you paste into the Kollus console.",
                id="wagtail_kollus.W003",
            )
        )
    elif len(str(kollus_settings.CALLBACK_TOKEN)) < 16:
        messages.append(
            Warning(
                f"{SETTINGS_NAME}['CALLBACK_TOKEN'] is shorter than 16 characters.",
                hint="Use a long random value, e.g. python -c 'import secrets; "
                "print(secrets.token_urlsafe(32))'.",
                id="wagtail_kollus.W004",
            )
        )
    return messages
