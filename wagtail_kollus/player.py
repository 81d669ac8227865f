"""Kollus player URLs: the JWT, the viewer id (``cuid``) and the cache-safe page reference.

Everything here is a plain function of its arguments and the settings, so the template tag,
the token endpoint and site code (a headless API, a mobile backend) share one implementation.

The token follows Kollus's rules exactly (see ``docs/player.md``): HS256 signed with the
security key; **no registered claims** (``exp``/``iat``/``nbf`` may make Kollus reject it);
expiry is the custom integer claim ``expt``; integer fields are JSON integers.
"""

from __future__ import annotations

import contextlib
import math
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

from django.core import signing
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.crypto import salted_hmac
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from .api.errors import ConfigurationError
from .conf import SETTINGS_NAME, kollus_settings
from .tokens import sign_hs256

# --- the JWT -------------------------------------------------------------------------------

JWT_ALGORITHM = "HS256"
_REGISTERED_TIME_CLAIMS = ("exp", "iat", "nbf")

# Per-item options Kollus documents, with the JSON type each must have. Coercing here means a
# block or site that passes "120" or 1 still produces the JSON type Kollus expects.
_MC_BOOL_OPTIONS = ("seek", "disable_playrate", "disable_nscreen", "intr")
_MC_INT_OPTIONS = ("seekable_end",)
_MC_STR_OPTIONS = ("title", "mcpf", "thumbnail")
# Kollus claims the plugin sets itself: options may never override them.
_RESERVED_MC_OPTIONS = ("mckey",)
# Query parameters the plugin sets itself on the player URL.
_RESERVED_URL_PARAMS = ("jwt", "custom_key")

_MAX_KEY_LENGTH = 100
_MAX_CUID_LENGTH = 200


def _require_setting(name: str, purpose: str) -> str:
    value = getattr(kollus_settings, name)
    if not isinstance(value, str) or not value:
        raise ConfigurationError(
            _(
                "WAGTAIL_KOLLUS[%(name)r] is not set; it is needed for %(purpose)s. Copy it from "
                "the Kollus console (or set the WAGTAIL_KOLLUS_%(name)s environment variable)."
            )
            % {"name": name, "purpose": purpose},
            service="kollus",
        )
    return value


def check_player_configuration() -> None:
    """Raise :class:`ConfigurationError` unless signed playback can work."""
    _player_config()  # checked once, remembered until the settings change


def _clean_media_content_key(media_content_key: Any) -> str:
    if not isinstance(media_content_key, str) or not media_content_key.strip():
        raise ValueError("A media content key must be a non-empty string.")
    key = media_content_key.strip()
    if len(key) > _MAX_KEY_LENGTH:
        raise ValueError(f"A media content key is at most {_MAX_KEY_LENGTH} characters.")
    return key


def clean_mc_options(options: Mapping[str, Any] | None) -> dict[str, Any]:
    """Per-item options with the JSON types Kollus expects; ``None`` values are dropped.

    Options the plugin does not know (``play_section``, ``subtitle_policy``, ``drm_policy``…)
    pass through unchanged, so a site can use any option Kollus adds.
    """
    cleaned: dict[str, Any] = {}
    for name, value in (options or {}).items():
        if value is None:
            continue
        if name in _RESERVED_MC_OPTIONS:
            raise ValueError(f"{name!r} is set by the plugin and cannot be an option.")
        if name in _MC_BOOL_OPTIONS:
            cleaned[name] = bool(value)
        elif name in _MC_INT_OPTIONS:
            cleaned[name] = int(value)
        elif name in _MC_STR_OPTIONS:
            text = str(value).strip()
            if text:
                cleaned[name] = text
        else:
            cleaned[name] = value
    return cleaned


def build_payload(
    media_content_key: str,
    cuid: str,
    *,
    mc_options: Mapping[str, Any] | None = None,
    lifetime: int | None = None,
    now: float | None = None,
) -> dict[str, Any]:
    """The JWT claims for one video: ``{"cuid", "expt", "mc": [{"mckey", …options}]}``."""
    if not isinstance(cuid, str) or not cuid:
        raise ValueError("cuid must be a non-empty string identifying the viewer.")
    if lifetime is None:
        lifetime = int(kollus_settings.PLAYER_TOKEN_LIFETIME)
    if lifetime <= 0:
        raise ValueError("The token lifetime must be a positive number of seconds.")
    issued = time.time() if now is None else now
    item = {"mckey": _clean_media_content_key(media_content_key), **clean_mc_options(mc_options)}
    return {"cuid": cuid[:_MAX_CUID_LENGTH], "expt": int(issued) + int(lifetime), "mc": [item]}


def sign_token(payload: Mapping[str, Any]) -> str:
    """Sign ``payload`` as Kollus wants it: HS256 with the security key, nothing added."""
    if any(name in payload for name in _REGISTERED_TIME_CLAIMS):
        forbidden = sorted(name for name in _REGISTERED_TIME_CLAIMS if name in payload)
        # A generic JWT library would happily sign them, and Kollus may then refuse to play.
        raise ValueError(f"Kollus tokens must not carry registered claims: {forbidden}")
    security_key = _require_setting("KOLLUS_SECURITY_KEY", "signing player tokens")
    # tokens.sign_hs256 writes exactly what PyJWT would, several times faster (see tokens.py).
    return sign_hs256(payload, security_key)


def clean_url_params(params: Mapping[str, Any] | None) -> dict[str, str]:
    """Player options as query parameters: ``True`` → ``"1"``; ``False``/``None``/0 start dropped."""
    cleaned: dict[str, str] = {}
    for name, value in (params or {}).items():
        if name in _RESERVED_URL_PARAMS:
            raise ValueError(f"{name!r} is set by the plugin and cannot be a player option.")
        if value is None or value is False:
            continue
        if value is True:
            cleaned[name] = "1"
        elif name == "t":
            seconds = int(value)
            if seconds > 0:  # t=0 is the default; leaving it out keeps URLs short
                cleaned[name] = str(seconds)
        else:
            cleaned[name] = str(value)
    return cleaned


@dataclass(frozen=True)
class PlayerLink:
    """A signed player URL and when its token stops being accepted (unix seconds)."""

    url: str
    expires_at: int


@dataclass(frozen=True)
class _PlayerConfig:
    """The settings every player URL needs, read and checked once (not once per video)."""

    security_key: str
    lifetime: Any  # PLAYER_TOKEN_LIFETIME as set; build_payload checks it
    custom_key_query: str  # "custom_key=<quoted>", the same for every URL
    base_url: str  # PLAYER_URL without a trailing slash


_player_config_cache: list[_PlayerConfig] = []


def _player_config() -> _PlayerConfig:
    if _player_config_cache:
        return _player_config_cache[0]
    # Raises, and remembers nothing, while a setting is missing.
    security_key = _require_setting("KOLLUS_SECURITY_KEY", "signing player tokens")
    _require_setting("KOLLUS_CUSTOM_KEY", "player URLs")
    _require_setting("PLAYER_URL", "player URLs")
    config = _PlayerConfig(
        security_key=security_key,
        lifetime=kollus_settings.PLAYER_TOKEN_LIFETIME,
        custom_key_query=urlencode({"custom_key": kollus_settings.KOLLUS_CUSTOM_KEY}),
        base_url=str(kollus_settings.PLAYER_URL).rstrip("/"),
    )
    _player_config_cache[:] = [config]
    return config


@receiver(setting_changed)
def _forget_player_config(*, setting: str, **kwargs: Any) -> None:
    if setting == SETTINGS_NAME:
        _player_config_cache.clear()


def _signed_player_url(
    media_content_key: str,
    cuid: str,
    mc_options: Mapping[str, Any] | None,
    url_params: Mapping[str, Any] | None,
    lifetime: int | None,
    now: float | None,
) -> tuple[str, int]:
    config = _player_config()
    if lifetime is None:
        lifetime = int(config.lifetime)
    payload = build_payload(
        media_content_key, cuid, mc_options=mc_options, lifetime=lifetime, now=now
    )
    # build_payload sets no registered claim, so sign_token's check is not needed here. A
    # token is base64url and dots only: nothing in it needs quoting.
    query = f"jwt={sign_hs256(payload, config.security_key)}&{config.custom_key_query}"
    params = clean_url_params(url_params)
    if params:
        query = f"{query}&{urlencode(params)}"
    return f"{config.base_url}/s?{query}", payload["expt"]


def build_player_link(
    media_content_key: str,
    cuid: str,
    *,
    mc_options: Mapping[str, Any] | None = None,
    url_params: Mapping[str, Any] | None = None,
    lifetime: int | None = None,
    now: float | None = None,
) -> PlayerLink:
    """Sign a fresh token and build ``{PLAYER_URL}/s?jwt=…&custom_key=…&<options>``."""
    url, expires_at = _signed_player_url(
        media_content_key, cuid, mc_options, url_params, lifetime, now
    )
    return PlayerLink(url=url, expires_at=expires_at)


def build_player_url(
    media_content_key: str,
    cuid: str,
    *,
    mc_options: Mapping[str, Any] | None = None,
    url_params: Mapping[str, Any] | None = None,
) -> str:
    """Just the URL of :func:`build_player_link` (one per video block on a page)."""
    return _signed_player_url(media_content_key, cuid, mc_options, url_params, None, None)[0]


# --- the viewer id (cuid) ------------------------------------------------------------------

# Session key of the random id given to an anonymous visitor.
ANONYMOUS_CUID_SESSION_KEY = "wagtail_kollus_cuid"


def default_cuid(request: Any) -> str:
    """The default ``CUID_RESOLVER``.

    * a signed-in user → ``"user-<pk>"`` (stable, and no e-mail address is sent to Kollus);
    * an anonymous visitor → ``"anon-<random>"`` kept in the session, so it is stable for the
      visit and per visitor even when the page HTML came from a cache;
    * no session (no ``SessionMiddleware``, or no request) → ``"anon-<hash>"`` of the client
      address and user agent, keyed with ``SECRET_KEY`` so it cannot be reversed to an IP.
    """
    if request is None:
        return "anonymous"
    user = getattr(request, "user", None)
    if user is not None and getattr(user, "is_authenticated", False):
        return f"user-{user.pk}"
    session = getattr(request, "session", None)
    if session is not None:
        cuid = session.get(ANONYMOUS_CUID_SESSION_KEY)
        if not cuid:
            cuid = "anon-" + secrets.token_hex(8)
            session[ANONYMOUS_CUID_SESSION_KEY] = cuid
        return str(cuid)
    meta = getattr(request, "META", {})
    fingerprint = f"{meta.get('REMOTE_ADDR', '')}|{meta.get('HTTP_USER_AGENT', '')}"
    # sha1 explicitly: it was Django's default (6.x warns that the default will change), and
    # another algorithm would give every anonymous viewer a new cuid, splitting their statistics.
    digest = salted_hmac("wagtail_kollus.player.cuid", fingerprint, algorithm="sha1").hexdigest()
    return "anon-" + digest[:16]


@lru_cache(maxsize=8)
def _import_resolver(path: str) -> Any:
    try:
        return import_string(path)
    except ImportError as exc:
        raise ConfigurationError(
            f"WAGTAIL_KOLLUS['CUID_RESOLVER'] = {path!r} cannot be imported: {exc}",
            service="kollus",
        ) from exc


# Where resolve_cuid keeps its answer on the request: (resolver, request.user, cuid).
_CUID_MEMO_ATTRIBUTE = "_wagtail_kollus_cuid"


def resolve_cuid(request: Any) -> str:
    """The viewer id for ``request``, through the ``CUID_RESOLVER`` setting.

    The resolver is a dotted path (or a callable) taking the request and returning a string;
    an empty answer falls back to :func:`default_cuid`. It runs once per request and viewer:
    a page with many players asks for the same viewer id once per player, and the answer is
    kept on the request (a new ``request.user``, e.g. after login, asks again).
    """
    resolver = kollus_settings.CUID_RESOLVER or default_cuid
    user = getattr(request, "user", None)  # the lazy object itself: identity, no query
    memo = getattr(request, _CUID_MEMO_ATTRIBUTE, None)
    if memo is not None and memo[0] is resolver and memo[1] is user:
        return memo[2]
    resolve = _import_resolver(resolver) if isinstance(resolver, str) else resolver
    cuid = resolve(request)
    if cuid is None or cuid == "":
        cuid = default_cuid(request)
    cuid = str(cuid)
    if request is not None:
        # A request-like object that takes no attributes simply resolves every time.
        with contextlib.suppress(AttributeError):
            setattr(request, _CUID_MEMO_ATTRIBUTE, (resolver, user, cuid))
    return cuid


# --- what the template tag can play --------------------------------------------------------


@dataclass(frozen=True)
class Playable:
    """What a player needs, whatever the tag was given (block value, model row or key)."""

    media_content_key: str
    title: str = ""
    is_playable: bool = True
    poster_url: str = ""
    duration_seconds: int | None = None
    mc_options: dict[str, Any] = field(default_factory=dict)
    url_params: dict[str, Any] = field(default_factory=dict)
    video_id: int | None = None


def _call_or_value(obj: Any, name: str, default: Any) -> Any:
    value = getattr(obj, name, default)
    return value() if callable(value) else value


def playable_from(value: Any) -> Playable | None:
    """Normalise a ``KollusVideoValue``, a ``KollusVideo`` or a media content key string.

    Block values are duck-typed (``media_content_key``, ``mc_options()``, ``url_params()``…)
    so the player never imports the blocks module. ``None`` means there is nothing to show.
    """
    if value is None:
        return None
    if isinstance(value, str):
        key = value.strip()
        return Playable(media_content_key=key, is_playable=bool(key)) if key else None
    if hasattr(value, "mc_options") or hasattr(value, "url_params"):
        video = getattr(value, "video", None)
        key = getattr(value, "media_content_key", None) or ""
        return Playable(
            media_content_key=str(key),
            title=str(getattr(value, "title", "") or ""),
            is_playable=bool(key) and bool(getattr(value, "is_playable", True)),
            poster_url=str(getattr(value, "poster_url", "") or ""),
            duration_seconds=getattr(value, "duration_seconds", None),
            mc_options=dict(_call_or_value(value, "mc_options", {}) or {}),
            url_params=dict(_call_or_value(value, "url_params", {}) or {}),
            video_id=getattr(video, "pk", None),
        )
    if hasattr(value, "media_content_key"):  # a KollusVideo (or anything shaped like one)
        key = value.media_content_key or ""
        return Playable(
            media_content_key=str(key),
            title=str(getattr(value, "title", "") or ""),
            is_playable=bool(key) and bool(getattr(value, "is_playable", True)),
            poster_url=str(getattr(value, "thumbnail_url", "") or ""),
            duration_seconds=getattr(value, "duration_seconds", None),
            video_id=getattr(value, "pk", None),
        )
    return None


# --- the cache-safe reference --------------------------------------------------------------

REFERENCE_SALT = "wagtail_kollus.player.reference"


class _ReferenceSigner(signing.TimestampSigner):
    """A TimestampSigner whose clock can be set, so tests can sign "a day ago"."""

    def __init__(self, *, now: float | None = None) -> None:
        super().__init__(salt=REFERENCE_SALT)
        self._now = now

    def timestamp(self) -> str:
        if self._now is None:
            return super().timestamp()
        return signing.b62_encode(int(self._now))


def sign_reference(playable: Playable, *, now: float | None = None) -> str:
    """A signed, non-secret reference to put in page HTML instead of a token.

    It binds the media content key, the JWT options and the player options with
    ``SECRET_KEY``: changing any of them invalidates it, so a reference cannot be turned into
    tokens for another video or other options. It holds no key and no token.
    """
    data: dict[str, Any] = {
        "k": _clean_media_content_key(playable.media_content_key),
        "o": clean_mc_options(playable.mc_options),
        "p": clean_url_params(playable.url_params),
    }
    if playable.video_id is not None:
        data["v"] = playable.video_id
    if now is not None:
        return _ReferenceSigner(now=now).sign_object(data, compress=True)
    memo_key = _reference_memo_key(data)
    current = time.time()
    if memo_key is not None:
        recent = _recent_references.get(memo_key)
        if recent is not None and 0 <= current - recent[1] < REFERENCE_REUSE_SECONDS:
            return recent[0]
    reference = _ReferenceSigner().sign_object(data, compress=True)
    if memo_key is not None:
        if len(_recent_references) >= _MAX_RECENT_REFERENCES:
            _recent_references.clear()
        _recent_references[memo_key] = (reference, current)
    return reference


# Signing a reference (JSON, zlib, HMAC) costs more than the rest of a cache-safe player, and a
# page shows a video with the same options to everyone, so one is reused for up to this many
# seconds. It then looks at most that much older to PLAYER_REFERENCE_MAX_AGE (30 days).
REFERENCE_REUSE_SECONDS = 60
_recent_references: dict[tuple, tuple[str, float]] = {}
_MAX_RECENT_REFERENCES = 4096


def _reference_memo_key(data: dict[str, Any]) -> tuple | None:
    """What the reference binds, with each option's type (``1`` and ``True`` sign differently).

    ``None`` for an option value that cannot be a key (a list): such references are signed
    every time.
    """
    options = tuple((name, type(value), value) for name, value in data["o"].items())
    key = (data["k"], options, tuple(data["p"].items()), data.get("v"))
    try:
        hash(key)
    except TypeError:
        return None
    return key


@receiver(setting_changed)
def _forget_references(*, setting: str, **kwargs: Any) -> None:
    if setting in ("SECRET_KEY", "SECRET_KEY_FALLBACKS", SETTINGS_NAME):
        _recent_references.clear()


class InvalidReference(ValueError):
    """A reference is malformed, tampered with, or older than ``PLAYER_REFERENCE_MAX_AGE``."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Reference:
    media_content_key: str
    mc_options: dict[str, Any]
    url_params: dict[str, str]
    video_id: int | None


def load_reference(reference: str, *, max_age: float | None = None) -> Reference:
    """Verify a reference from :func:`sign_reference`; raise :class:`InvalidReference`."""
    if not isinstance(reference, str) or not reference or len(reference) > 4096:
        raise InvalidReference(_("A player reference is required."), code="missing_reference")
    if max_age is None:
        max_age = kollus_settings.PLAYER_REFERENCE_MAX_AGE
    try:
        data = _ReferenceSigner().unsign_object(reference, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise InvalidReference(
            _("The player reference has expired; reload the page."), code="expired_reference"
        ) from exc
    except (signing.BadSignature, ValueError) as exc:
        raise InvalidReference(
            _("The player reference is invalid."), code="invalid_reference"
        ) from exc
    if not isinstance(data, dict) or not isinstance(data.get("k"), str):
        raise InvalidReference(_("The player reference is invalid."), code="invalid_reference")
    return Reference(
        media_content_key=data["k"],
        mc_options=dict(data.get("o") or {}),
        url_params=dict(data.get("p") or {}),
        video_id=data.get("v"),
    )


def seconds_until(expires_at: int, *, now: float | None = None) -> int:
    """Whole seconds left before ``expires_at`` (never negative)."""
    current = time.time() if now is None else now
    return max(0, math.floor(expires_at - current))
