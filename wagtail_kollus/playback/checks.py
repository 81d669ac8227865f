"""System checks of the player options (``PLAYER_WATERMARK``, ``PLAYER_DRM_POLICY``…).

A malformed option would otherwise surface only when a token is signed: the player shows its
placeholder and the token endpoint answers 503. ``manage.py check`` names the setting and
what is wrong with it, with the same words :mod:`.options` uses.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.checks import Error, Tags, register

from ..conf import DEFAULTS, SETTINGS_NAME, kollus_settings
from .claims import MAX_KEY_LENGTH
from .options import (
    PAGE_LANGUAGE,
    clean_json_object,
    clean_subtitle_languages,
    clean_watermark,
)


def _clean_subtitles(value: Any) -> Any:
    if value not in (None, PAGE_LANGUAGE):
        raise ValueError(f"is {value!r}; use None or {PAGE_LANGUAGE!r}.")
    return value


def _clean_flag(value: Any) -> Any:
    if not isinstance(value, bool):
        raise ValueError(f"is {value!r}; use True or False.")
    return value


def _clean_intro(value: Any) -> Any:
    if not isinstance(value, str) or len(value.strip()) > MAX_KEY_LENGTH:
        raise ValueError(
            f"must be a media content key (a string of at most {MAX_KEY_LENGTH} characters) or ''."
        )
    return value


def _clean_template(value: Any) -> Any:
    template = clean_json_object(value)
    if template is not None and "{language}" not in repr(template):
        raise ValueError(
            "does not mention '{language}', so every page would get the same subtitles."
        )
    return template


# Setting → (its check, the check's id). Ids wagtail_kollus.E030-E039 are the player options'.
_OPTION_CHECKS: dict[str, tuple[Callable[[Any], Any], str]] = {
    "PLAYER_WATERMARK": (clean_watermark, "wagtail_kollus.E030"),
    "PLAYER_DRM_POLICY": (clean_json_object, "wagtail_kollus.E031"),
    "PLAYER_SUBTITLES": (_clean_subtitles, "wagtail_kollus.E032"),
    "SUBTITLE_POLICY_TEMPLATE": (_clean_template, "wagtail_kollus.E033"),
    "SUBTITLE_LANGUAGES": (clean_subtitle_languages, "wagtail_kollus.E034"),
    "PLAYER_DISABLE_NSCREEN": (_clean_flag, "wagtail_kollus.E035"),
    "PLAYER_INTRO_MEDIA_CONTENT_KEY": (_clean_intro, "wagtail_kollus.E036"),
}


@register(Tags.compatibility)
def check_player_options(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    messages = []
    for name, (clean, check_id) in _OPTION_CHECKS.items():
        try:
            clean(getattr(kollus_settings, name))
        except ValueError as exc:
            messages.append(
                Error(
                    f"{SETTINGS_NAME}[{name!r}] {exc}",
                    hint=f"See docs/player.md, 'Player options'. The default is {DEFAULTS[name]!r}.",
                    id=check_id,
                )
            )
    return messages
