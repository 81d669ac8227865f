"""The default ``KollusVideoBlock`` player in one pass: claims, token, URL and markup.

A page may hold dozens of video blocks, and each needs a freshly signed player URL. The general
path (``playable_from`` → ``build_player_url`` → ``render_default``) normalises any value the
template tag accepts and builds dicts and dataclasses on the way; for the common case, a
playable video in a plain :class:`~wagtail_kollus.blocks.KollusVideoValue` rendered with the
package's own templates in render-time mode, this module writes the same bytes directly:

* the claims as compact JSON, in the order ``build_payload`` gives them, signed by
  :func:`wagtail_kollus.tokens.sign_hs256_json` (so the token is PyJWT's, byte for byte);
* the URL as ``_signed_player_url`` writes it;
* (``CACHE_SAFE_PLAYBACK`` off) the markup of ``blocks/kollus_video.html`` → ``player/render_time.html`` →
  ``player/iframe.html`` for a player without width, height or CSS class.

Whenever anything is unusual (a value subclass, an empty or over-long key, a title the default
markup would translate, a missing setting) it answers ``None`` and the block renders through
the general path, which also logs and shows the placeholder. ``tests/test_player_markup.py``
compares both paths.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from html import escape
from json.encoder import encode_basestring_ascii
from typing import Any
from urllib.parse import urlencode

from django.core.signals import setting_changed
from django.dispatch import receiver

from .api.errors import ConfigurationError
from .conf import SETTINGS_NAME, kollus_settings
from .player import _MAX_CUID_LENGTH, _MAX_KEY_LENGTH, _player_config, resolve_cuid
from .player_markup import (
    _IFRAME_TAIL,
    IFRAME_TEMPLATE,
    RENDER_TIME_TEMPLATE,
    are_package_templates,
)
from .tokens import sign_hs256_json

_OPEN = (
    '<div class="kollus-video"><div class="kollus-player"'
    ' style="position:relative;width:100%;aspect-ratio:16 / 9">\n'
    '  <iframe class="kollus-player__frame" src="'
)
_CLOSE = "\n</div>\n</div>\n"
_PLAYER_TEMPLATES = (RENDER_TIME_TEMPLATE, IFRAME_TEMPLATE)


@dataclass(frozen=True)
class _Config:
    security_key: str
    lifetime: int
    markup_to_token: str  # the markup up to the token: wrapper, iframe, escaped "…/s?jwt="
    custom_key: str  # escaped "&custom_key=…"


_config_cache: list[_Config] = []
# What is the same every time a given video is shown with given options (claims after
# "expt", the rest of the URL and markup after the token), keyed by those inputs themselves, so
# an entry can never be stale; ``False`` marks inputs the general path must handle.
_static_parts: dict[tuple, tuple[str, str] | bool] = {}
_MAX_STATIC_PARTS = 4096
_OPTION_TYPES = (bool, int, type(None))  # what the option children store (JSON)


def _config() -> _Config | None:
    if _config_cache:
        return _config_cache[0]
    try:
        player = _player_config()
        lifetime = int(player.lifetime)
    except (ConfigurationError, TypeError, ValueError):
        return None  # the general path explains it and shows the placeholder
    if lifetime <= 0 or kollus_settings.CACHE_SAFE_PLAYBACK:
        return None
    config = _Config(
        security_key=player.security_key,
        lifetime=lifetime,
        markup_to_token=_OPEN + escape(f"{player.base_url}/s?jwt="),
        custom_key=escape(f"&{player.custom_key_query}"),
    )
    _config_cache[:] = [config]
    return config


@receiver(setting_changed)
def _forget_config(*, setting: str, **kwargs: Any) -> None:
    if setting == SETTINGS_NAME:
        _config_cache.clear()
        _static_parts.clear()


def _parts_for(config: _Config, inputs: tuple) -> tuple[str, str] | bool:
    """``(claims after "expt", markup after the token)``, or ``False`` for the general path.

    ``key``, ``video_title`` and ``override`` are exact ``str``s (``override`` may be ``None``);
    the caller checks, so that a ``SafeString`` equal to a memoised ``str`` never shares its entry.
    """
    key, video_title, override, allow_seek, disable_playrate, autoplay, mute, start = inputs
    if not all(isinstance(option, _OPTION_TYPES) for option in inputs[3:]):
        return False  # e.g. a text start time: the general path decides what it means
    key = key.strip()
    if not key or len(key) > _MAX_KEY_LENGTH:
        return False  # the general path logs it and shows the placeholder
    title = (override or "").strip() or video_title
    if not title:
        return False  # the untitled player's label is translated: the general path does it
    mc_title = title.strip()
    claims = "".join(
        (
            ',"mc":[{"mckey":',
            encode_basestring_ascii(key),
            ',"seek":true' if allow_seek else ',"seek":false',
            ',"disable_playrate":true' if disable_playrate else ',"disable_playrate":false',
            f',"title":{encode_basestring_ascii(mc_title)}}}]}}' if mc_title else "}]}",
        )
    )
    params = []
    if autoplay:
        params.append(("autoplay", "1"))
    if mute:
        params.append(("mute", "1"))
    if start and start > 0:  # 0 is the player's default; a negative start is ignored
        params.append(("t", str(int(start))))
    query = f"&amp;{escape(urlencode(params))}" if params else ""
    markup = f'{config.custom_key}{query}" title="{escape(title)}"{_IFRAME_TAIL}{_CLOSE}'
    return claims, markup


def render_time_block_html(value: Any, request: Any) -> str | None:
    """The default block markup with a freshly signed player URL, or ``None`` (see above)."""
    config = _config()
    if config is None or not are_package_templates(_PLAYER_TEMPLATES):
        return None  # cache-safe mode, a missing setting, or a project's own player template
    video = value.get("video")
    if video is None:
        return None
    key, video_title = video.media_content_key, video.title
    override = value.get("title_override")
    if type(key) is not str or type(video_title) is not str:
        return None  # not a plain text column (a site's own value): the general path
    if override is not None and type(override) is not str:
        return None
    inputs = (
        key,
        video_title,
        override,
        value.get("allow_seek", True),
        value.get("disable_playrate", False),
        value.get("autoplay"),
        value.get("mute"),
        value.get("start_time"),
    )
    try:
        parts = _static_parts.get(inputs)
    except TypeError:  # an unhashable option: not what the block stores
        return None
    if parts is None:
        parts = _parts_for(config, inputs)
        if len(_static_parts) >= _MAX_STATIC_PARTS:
            _static_parts.clear()
        _static_parts[inputs] = parts
    if parts is False:
        return None
    claims_tail, markup_tail = parts
    cuid = resolve_cuid(request)
    if not cuid:
        return None
    expt = int(time.time()) + config.lifetime
    claims = (
        f'{{"cuid":{encode_basestring_ascii(cuid[:_MAX_CUID_LENGTH])},"expt":{expt}{claims_tail}'
    )
    token = sign_hs256_json(claims.encode("ascii"), config.security_key)
    return f"{config.markup_to_token}{token}{markup_tail}"
