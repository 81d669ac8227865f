"""One Kollus account, and the API clients built from it.

A :class:`KollusAccount` holds what names one Kollus account and the contents API that goes
with it: URLs, keys and tokens, the channel and category new uploads go to, the callback token,
and how the plugin talks to both APIs (timeouts, retries, Kollus's rate limit). It is a frozen
value: build it once per unit of work, pass it down, and every call made for that work uses the
same account, even if settings change meanwhile.

``KollusAccount.from_settings()`` reads ``WAGTAIL_KOLLUS`` (and the ``WAGTAIL_KOLLUS_<NAME>``
environment variables); keyword arguments override single fields, as django-anymail's backends
take keyword arguments over their settings::

    account = KollusAccount.from_settings(kollus_channel_key="other-channel")

:func:`default_account` is that account without overrides, built once per process (and again
when ``WAGTAIL_KOLLUS`` changes): playback signs a token per player on every page view, so it
takes its keys from it rather than reading the settings each time.

:func:`contents_client` and :func:`kollus_client` are the one way the plugin builds its API
clients: everything that calls an API takes an account (by default the one of the settings)
and asks these two for a client. Each field is named after its setting, in lower case.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from django.core.signals import setting_changed
from django.dispatch import receiver

from .api.contents import ContentsClient
from .api.errors import ConfigurationError
from .api.ratelimit import CacheRateLimiter
from .api.redaction import REDACTED
from .api.vod import KollusClient
from .conf import DEFAULTS, SECRET_SETTINGS, SETTINGS_NAME, kollus_settings

#: Secrets shorter than this are not used for redaction: they would mask unrelated text.
_MIN_REDACTED_LENGTH = 4


@dataclass(frozen=True, repr=False)
class KollusAccount:
    """The settings that name one Kollus + contents API account (see ``docs/api-clients.md``)."""

    # --- the contents API (the customer's class/commerce site) ---
    contents_api_url: str = DEFAULTS["CONTENTS_API_URL"]
    contents_api_key: str = DEFAULTS["CONTENTS_API_KEY"]
    # --- Kollus ---
    kollus_api_url: str = DEFAULTS["KOLLUS_API_URL"]
    # Not hashed: a mapping has no hash (and it overrides paths, it does not name the account).
    kollus_api_paths: Mapping[str, str] = field(default_factory=dict, hash=False)
    kollus_access_token: str = DEFAULTS["KOLLUS_ACCESS_TOKEN"]
    kollus_security_key: str = DEFAULTS["KOLLUS_SECURITY_KEY"]
    kollus_custom_key: str = DEFAULTS["KOLLUS_CUSTOM_KEY"]
    kollus_service_account_key: str = DEFAULTS["KOLLUS_SERVICE_ACCOUNT_KEY"]
    kollus_channel_key: str = DEFAULTS["KOLLUS_CHANNEL_KEY"]
    kollus_category_key: str = DEFAULTS["KOLLUS_CATEGORY_KEY"]
    player_url: str = DEFAULTS["PLAYER_URL"]
    callback_token: str = DEFAULTS["CALLBACK_TOKEN"]
    # --- how the plugin talks to both APIs ---
    connect_timeout: float = DEFAULTS["CONNECT_TIMEOUT"]
    read_timeout: float = DEFAULTS["READ_TIMEOUT"]
    max_retries: int = DEFAULTS["MAX_RETRIES"]
    backoff_factor: float = DEFAULTS["BACKOFF_FACTOR"]
    backoff_max: float = DEFAULTS["BACKOFF_MAX"]
    kollus_rate_limit_per_second: int = DEFAULTS["KOLLUS_RATE_LIMIT_PER_SECOND"]
    kollus_rate_limit_per_minute: int = DEFAULTS["KOLLUS_RATE_LIMIT_PER_MINUTE"]
    contents_rate_limit_per_second: int = DEFAULTS["CONTENTS_RATE_LIMIT_PER_SECOND"]
    contents_rate_limit_per_minute: int = DEFAULTS["CONTENTS_RATE_LIMIT_PER_MINUTE"]
    rate_limit_cache: str = DEFAULTS["RATE_LIMIT_CACHE"]

    def __post_init__(self) -> None:
        # Frozen means frozen: a caller's dict must not change the account afterwards. (A value
        # that is not a mapping is left for ``resolve_paths`` to refuse, with a message.)
        paths = self.kollus_api_paths or {}
        if isinstance(paths, Mapping):
            object.__setattr__(self, "kollus_api_paths", MappingProxyType(dict(paths)))

    @classmethod
    def from_settings(cls, **overrides: Any) -> KollusAccount:
        """The account ``WAGTAIL_KOLLUS`` describes, with ``overrides`` (field names) on top.

        An unknown field name is a ``TypeError``, as for any other constructor.
        """
        values = {name: getattr(kollus_settings, name.upper()) for name in _FIELD_NAMES}
        values.update(overrides)
        return cls(**values)

    def __repr__(self) -> str:
        shown = []
        for name in _FIELD_NAMES:
            value = getattr(self, name)
            if name in _SECRET_FIELDS and value:
                value = REDACTED
            elif isinstance(value, MappingProxyType):
                value = dict(value)
            shown.append(f"{name}={value!r}")
        return f"KollusAccount({', '.join(shown)})"

    def secret_values(self) -> tuple[str, ...]:
        """Every secret of the account, for redaction (short values would mask noise)."""
        values = (getattr(self, name) for name in _SECRET_FIELDS)
        return tuple(
            value
            for value in values
            if isinstance(value, str) and len(value) >= _MIN_REDACTED_LENGTH
        )

    def require(self, *names: str, api_name: str) -> None:
        """Raise :class:`ConfigurationError` naming the first of ``names`` that is not set,
        before any request: a misconfigured site fails with a sentence, not a connection
        error."""
        for name in names:
            if not getattr(self, name):
                setting = name.upper()
                raise ConfigurationError(
                    f"WAGTAIL_KOLLUS['{setting}'] is not set (or env WAGTAIL_KOLLUS_{setting}); "
                    f"the {api_name} cannot be called."
                )

    def session_options(self) -> dict[str, Any]:
        """What both clients' HTTP sessions take from the account."""
        return {
            "connect_timeout": self.connect_timeout,
            "read_timeout": self.read_timeout,
            "max_retries": self.max_retries,
            "backoff_factor": self.backoff_factor,
            "backoff_max": self.backoff_max,
            "secrets": self.secret_values(),
        }

    def rate_limiter(self) -> CacheRateLimiter | None:
        """The Kollus limiter every process shares for this account; None when both limits
        are 0."""
        return self._shared_limiter(
            self.kollus_access_token,
            self.kollus_rate_limit_per_second,
            self.kollus_rate_limit_per_minute,
            service="kollus",
        )

    def contents_rate_limiter(self) -> CacheRateLimiter | None:
        """The contents API's limiter, shared by every process (web and django-q2 workers)
        using this API key; None when both contents limits are 0 (the default)."""
        return self._shared_limiter(
            self.contents_api_key,
            self.contents_rate_limit_per_second,
            self.contents_rate_limit_per_minute,
            service="contents",
        )

    def _shared_limiter(
        self, secret: str, per_second: int, per_minute: int, *, service: str
    ) -> CacheRateLimiter | None:
        if not per_second and not per_minute:
            return None
        return CacheRateLimiter(
            secret,
            per_second=per_second,
            per_minute=per_minute,
            cache_alias=self.rate_limit_cache,
            service=service,
        )


_FIELD_NAMES = tuple(f.name for f in fields(KollusAccount))
_SECRET_FIELDS = frozenset(name.lower() for name in SECRET_SETTINGS)


@lru_cache(maxsize=1)
def default_account() -> KollusAccount:
    """The account ``WAGTAIL_KOLLUS`` describes, built once per process.

    What code uses when no account is passed to it. A site that changes ``WAGTAIL_KOLLUS``
    at run time (``override_settings``, pytest-django's ``settings``) gets a new one: the
    ``setting_changed`` receiver below forgets it.
    """
    return KollusAccount.from_settings()


@receiver(setting_changed)
def _forget_default_account(*, setting: str, **kwargs: Any) -> None:
    # The plugin's one memo of settings outside the settings object (conf.kollus_settings).
    if setting == SETTINGS_NAME:
        default_account.cache_clear()


def contents_client(account: KollusAccount | None = None, **options: Any) -> ContentsClient:
    """A :class:`ContentsClient` for ``account`` (default: the settings' account).

    ``options`` override the session options the account gives (``read_timeout=``,
    ``max_retries=``, ``total_timeout=``, ``sleep=``…; see ``ApiSession``), and
    ``rate_limiter=`` the account's contents limiter (``CONTENTS_RATE_LIMIT_PER_*``).
    """
    account = account or default_account()
    account.require("contents_api_url", "contents_api_key", api_name="contents API")
    defaults = account.session_options()
    if "rate_limiter" not in options:  # built only when used: it hashes the key
        defaults["rate_limiter"] = account.contents_rate_limiter()
    return ContentsClient(
        account.contents_api_url, account.contents_api_key, **{**defaults, **options}
    )


def kollus_client(account: KollusAccount | None = None, **options: Any) -> KollusClient:
    """A :class:`KollusClient` for ``account`` (default: the settings' account), behind the
    account's shared rate limiter.

    ``options`` override what the account gives: ``rate_limiter=None`` (no limiter),
    ``rate_limit_max_wait=``, ``paths=`` and the session options of :func:`contents_client`.
    """
    account = account or default_account()
    account.require("kollus_api_url", "kollus_access_token", api_name="Kollus API")
    defaults = {**account.session_options(), "paths": account.kollus_api_paths or None}
    if "rate_limiter" not in options:  # built only when used: it hashes the token
        defaults["rate_limiter"] = account.rate_limiter()
    return KollusClient(
        account.kollus_api_url, account.kollus_access_token, **{**defaults, **options}
    )
