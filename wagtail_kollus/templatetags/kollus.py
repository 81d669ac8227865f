"""``{% load kollus %}{% kollus_player value %}``: a responsive, accessible Kollus player.

``value`` may be a ``KollusVideoValue`` (the block's value), a ``KollusVideo`` or a media
content key string. Rendering never raises for visitors: a video that cannot be played, or a
plugin that is not configured, renders ``wagtail_kollus/player/placeholder.html`` and logs a
warning that says why.

Speed: a page may show dozens of players, and the template engine costs more per player than
signing its token. So while the player templates in use are the ones this package ships (no
project template shadows them), the same markup is written directly in Python
(:mod:`wagtail_kollus.player_markup`); a project that overrides a template gets it rendered
through the template engine as before. A test pins both paths to identical output.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

from django import template
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.safestring import SafeString
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from ..api.errors import ConfigurationError
from ..conf import kollus_settings
from ..player import (
    Playable,
    build_player_url,
    check_player_configuration,
    playable_from,
    resolve_cuid,
    sign_reference,
)
from ..player_markup import CACHE_SAFE_TEMPLATE, RENDER_TIME_TEMPLATE, render_default

logger = logging.getLogger("wagtail_kollus.player")
register = template.Library()

PLACEHOLDER_TEMPLATE = "wagtail_kollus/player/placeholder.html"


@lru_cache(maxsize=32)
def _token_url(urlconf: Any, script_prefix: str, language: str | None) -> str:
    # reverse() costs more than signing the reference; its answer only changes with the URLconf,
    # the script prefix and (under i18n_patterns) the language, which are the cache key.
    return reverse("wagtail_kollus:player_token", urlconf=urlconf)


def token_url() -> str:
    """The token endpoint's URL (``wagtail_kollus:player_token``) for the current request."""
    return _token_url(get_urlconf(), get_script_prefix(), get_language())


@receiver(setting_changed)
def _forget_token_url(*, setting: str, **kwargs: Any) -> None:
    if setting == "ROOT_URLCONF":
        _token_url.cache_clear()


def _positive_int(value: Any) -> int | None:
    if value is None or value == "":  # the usual case; no exception to raise and catch
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def _frame_context(playable: Playable | None, width: Any, height: Any, css_class: str) -> dict:
    width, height = _positive_int(width), _positive_int(height)
    title = playable.title if playable and playable.title else ""
    return {
        "title": title or _("Video player"),
        "has_title": bool(title),
        "poster_url": playable.poster_url if playable else "",
        "width": width,
        "height": height,
        # The wrapper keeps the frame's shape at any width; 16:9 unless both sides are given.
        "aspect_ratio": f"{width} / {height}" if width and height else "16 / 9",
        "max_width": width,
        "css_class": css_class or "",
    }


def render_player(
    value: Any,
    *,
    request: Any = None,
    cache_safe: bool | None = None,
    width: Any = None,
    height: Any = None,
    css_class: str = "",
) -> SafeString:
    """The HTML of :func:`kollus_player`, usable from Python (e.g. a block's ``render``)."""
    playable = playable_from(value)
    context = _frame_context(playable, width, height, css_class)
    if playable is None or not playable.is_playable:
        return render_to_string(PLACEHOLDER_TEMPLATE, context, request=request)
    if cache_safe is None:
        cache_safe = bool(kollus_settings.CACHE_SAFE_PLAYBACK)
    try:
        check_player_configuration()
        if cache_safe:
            context.update(
                reference=sign_reference(playable),
                token_url=token_url(),
                autoplay=bool(playable.url_params.get("autoplay")),
            )
            template_name = CACHE_SAFE_TEMPLATE
        else:
            context["src"] = build_player_url(
                playable.media_content_key,
                resolve_cuid(request),
                mc_options=playable.mc_options,
                url_params=playable.url_params,
            )
            template_name = RENDER_TIME_TEMPLATE
    except ConfigurationError as exc:
        logger.warning("Kollus player shown as a placeholder: %s", exc)
        return render_to_string(PLACEHOLDER_TEMPLATE, context, request=request)
    except NoReverseMatch:
        logger.warning(
            "Kollus player shown as a placeholder: cache-safe playback needs the plugin's URLs; "
            'add path("kollus/", include("wagtail_kollus.urls")) to your URLconf.'
        )
        return render_to_string(PLACEHOLDER_TEMPLATE, context, request=request)
    except (TypeError, ValueError) as exc:
        # A malformed key or block option: a content problem, not a reason for a 500.
        logger.warning(
            "Kollus player for %r shown as a placeholder: %s", playable.media_content_key, exc
        )
        return render_to_string(PLACEHOLDER_TEMPLATE, context, request=request)
    html = render_default(template_name, context)
    if html is None:  # a project template overrides ours
        html = render_to_string(template_name, context, request=request)
    return html


@register.simple_tag(takes_context=True)
def kollus_player(
    context: template.Context,
    value: Any,
    cache_safe: bool | None = None,
    width: Any = None,
    height: Any = None,
    css_class: str = "",
) -> SafeString:
    """``{% kollus_player value [cache_safe=…] [width=…] [height=…] [css_class=…] %}``.

    ``cache_safe=None`` follows the ``CACHE_SAFE_PLAYBACK`` setting.
    """
    return render_player(
        value,
        request=context.get("request"),
        cache_safe=cache_safe,
        width=width,
        height=height,
        css_class=css_class,
    )
