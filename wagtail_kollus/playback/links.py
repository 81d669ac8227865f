"""Signed player URLs: ``{PLAYER_URL}/s?jwt=<token>&custom_key=<custom key>&<player options>``."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus, urlencode

from ..accounts import KollusAccount
from .claims import build_payload, require_setting
from .jwt import sign_token

# Query parameters the plugin sets itself on the player URL.
_RESERVED_URL_PARAMS = ("jwt", "custom_key")


def check_player_configuration(account: KollusAccount | None = None) -> None:
    """Raise :class:`~wagtail_kollus.api.errors.ConfigurationError` unless signed playback can
    work with ``account`` (a security key, a custom key and a player URL)."""
    require_setting("KOLLUS_SECURITY_KEY", "signing player tokens", account)
    require_setting("KOLLUS_CUSTOM_KEY", "player URLs", account)
    require_setting("PLAYER_URL", "player URLs", account)


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


def build_player_link(
    media_content_key: str,
    cuid: str,
    *,
    mc_options: Mapping[str, Any] | None = None,
    url_params: Mapping[str, Any] | None = None,
    lifetime: int | None = None,
    now: float | None = None,
    claims: Mapping[str, Any] | None = None,
    intro_media_content_key: str = "",
    account: KollusAccount | None = None,
) -> PlayerLink:
    """Sign a fresh token and build ``{PLAYER_URL}/s?jwt=…&custom_key=…&<options>`` with the
    keys of ``account`` (by default the settings' account).

    ``claims`` and ``intro_media_content_key``: see :func:`.claims.build_payload`.
    """
    custom_key = require_setting("KOLLUS_CUSTOM_KEY", "player URLs", account)
    base_url = require_setting("PLAYER_URL", "player URLs", account).rstrip("/")
    payload = build_payload(
        media_content_key,
        cuid,
        mc_options=mc_options,
        lifetime=lifetime,
        now=now,
        claims=claims,
        intro_media_content_key=intro_media_content_key,
    )
    # A token is base64url and dots only: nothing in it needs quoting.
    query = f"jwt={sign_token(payload, account=account)}&custom_key={quote_plus(custom_key)}"
    params = clean_url_params(url_params)
    if params:
        query = f"{query}&{urlencode(params)}"
    return PlayerLink(url=f"{base_url}/s?{query}", expires_at=payload["expt"])


def build_player_url(
    media_content_key: str,
    cuid: str,
    *,
    mc_options: Mapping[str, Any] | None = None,
    url_params: Mapping[str, Any] | None = None,
    claims: Mapping[str, Any] | None = None,
    intro_media_content_key: str = "",
    account: KollusAccount | None = None,
) -> str:
    """Just the URL of :func:`build_player_link` (one per video block on a page)."""
    return build_player_link(
        media_content_key,
        cuid,
        mc_options=mc_options,
        url_params=url_params,
        claims=claims,
        intro_media_content_key=intro_media_content_key,
        account=account,
    ).url


def seconds_until(expires_at: int, *, now: float | None = None) -> int:
    """Whole seconds left before ``expires_at`` (never negative)."""
    current = time.time() if now is None else now
    return max(0, math.floor(expires_at - current))
