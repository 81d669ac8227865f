"""The player's default markup written in Python, used while no project template overrides it.

Rendering a template per player (block template → player template → iframe include) costs
several times what signing the player's token costs, and a page may hold dozens of players.
The functions here build, character for character, what the package's own templates render
(``tests/test_player_markup.py`` compares both for many option combinations). Whether a
template is "the package's own" is decided by where the template loaders find it: a project
template of the same name (``DIRS``, an app listed earlier) or a different file wins, and then
the template engine renders it exactly as before. The answer is cached while ``DEBUG`` is off
(the template loaders cache too) and forgotten when ``TEMPLATES``, ``INSTALLED_APPS`` or
``DEBUG`` change.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from html import escape as _html_escape
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.templatetags.static import static
from django.urls import get_script_prefix
from django.utils.formats import localize
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext

BLOCK_TEMPLATE = "wagtail_kollus/blocks/kollus_video.html"
RENDER_TIME_TEMPLATE = "wagtail_kollus/player/render_time.html"
CACHE_SAFE_TEMPLATE = "wagtail_kollus/player/cache_safe.html"
IFRAME_TEMPLATE = "wagtail_kollus/player/iframe.html"
PLAYER_SCRIPT = "wagtail_kollus/js/player.js"

_PACKAGE_TEMPLATES = Path(__file__).resolve().parent / "templates"


def _resolves_to_package(name: str) -> bool:
    try:
        template = get_template(name)
    except TemplateDoesNotExist:
        return False
    filename = getattr(getattr(template, "origin", None), "name", None)
    engine = getattr(getattr(template, "template", None), "engine", None)
    if not filename or engine is None or not engine.autoescape:
        # Not a Django template, or an engine that does not escape: let it render itself.
        return False
    try:
        return Path(filename).resolve() == (_PACKAGE_TEMPLATES / name).resolve()
    except (OSError, ValueError):
        return False


@lru_cache(maxsize=16)
def _cached_resolves_to_package(name: str) -> bool:
    return _resolves_to_package(name)


@lru_cache(maxsize=1)
def _debug() -> bool:
    # settings.DEBUG goes through LazySettings' Python-level attribute hook; a page of players
    # asks several times per player. Forgotten when DEBUG changes (setting_changed).
    return bool(settings.DEBUG)


def is_package_template(name: str) -> bool:
    """Whether ``name`` resolves to the template file this package ships (no override)."""
    if _debug():
        # Development: templates come and go while runserver runs; look each time.
        return _resolves_to_package(name)
    return _cached_resolves_to_package(name)


@lru_cache(maxsize=16)
def _cached_all_resolve_to_package(names: tuple[str, ...]) -> bool:
    return all(map(_cached_resolves_to_package, names))


def are_package_templates(names: tuple[str, ...]) -> bool:
    """:func:`is_package_template` for several names at once (one cache lookup)."""
    if _debug():
        return all(map(_resolves_to_package, names))
    return _cached_all_resolve_to_package(names)


@lru_cache(maxsize=8)
def _cached_script_url(script_prefix: str) -> str:
    return static(PLAYER_SCRIPT)  # reads the prefix itself; the argument is the cache key


def player_script_url() -> str:
    """``{% static 'wagtail_kollus/js/player.js' %}``, looked up once (a storage call each)."""
    if _debug():  # collectstatic may run while the server does
        return static(PLAYER_SCRIPT)
    return _cached_script_url(get_script_prefix())


@receiver(setting_changed)
def _forget_template_origins(*, setting: str, **kwargs: Any) -> None:
    if setting == "DEBUG":
        _debug.cache_clear()
    if setting in ("TEMPLATES", "INSTALLED_APPS", "DEBUG"):
        _cached_resolves_to_package.cache_clear()
        _cached_all_resolve_to_package.cache_clear()
    if setting in ("LANGUAGES", "LANGUAGE_CODE", "LOCALE_PATHS", "INSTALLED_APPS"):
        _cache_safe_texts.cache_clear()
    if setting in ("STATIC_URL", "STORAGES", "STATICFILES_STORAGE", "INSTALLED_APPS", "DEBUG"):
        _cached_script_url.cache_clear()


# --- the markup: each function mirrors the template named in its docstring -----------------

_IFRAME_TAIL = (
    ' style="position:absolute;inset:0;width:100%;height:100%;border:0"'
    ' allow="autoplay; fullscreen; encrypted-media" allowfullscreen loading="lazy"'
    ' referrerpolicy="strict-origin-when-cross-origin"></iframe>\n'
)


def escape(value: Any) -> str:
    """What ``{{ value }}`` does (``conditional_escape``) without its lazy-string wrapper.

    Safe strings (``mark_safe``, string literals in a template) pass as they are.
    """
    if hasattr(value, "__html__"):
        return str(value.__html__())
    return _html_escape(str(value))


def _text(value: Any) -> str:
    """``{{ value }}`` in an autoescaping template: localised, then escaped."""
    return escape(localize(value))


def _iframe(context: dict[str, Any], src: str) -> str:
    """``player/iframe.html``."""
    parts = ['<iframe class="kollus-player__frame"']
    if src:
        parts.append(f' src="{escape(src)}"')
    parts.append(f' title="{escape(context["title"])}"')
    if context["width"]:
        parts.append(f' width="{_text(context["width"])}"')
    if context["height"]:
        parts.append(f' height="{_text(context["height"])}"')
    parts.append(_IFRAME_TAIL)
    return "".join(parts)


def _frame_open(context: dict[str, Any]) -> str:
    """The wrapper ``<div class="kollus-player…" style="…"`` both player templates open with."""
    css_class = context["css_class"]
    classes = f"kollus-player {escape(css_class)}" if css_class else "kollus-player"
    style = f"position:relative;width:100%;aspect-ratio:{escape(context['aspect_ratio'])}"
    if context["max_width"]:
        style += f";max-width:{_text(context['max_width'])}px"
    return f'<div class="{classes}" style="{style}"'


def render_time_html(context: dict[str, Any]) -> str:
    """``player/render_time.html`` (which includes ``player/iframe.html``)."""
    iframe = _iframe(context, context["src"])
    return f"{_frame_open(context)}>\n  {iframe}\n</div>\n"


@lru_cache(maxsize=16)
def _cache_safe_texts(language: str | None) -> tuple[str, str]:
    # gettext searches every app's catalogue; a page of players asks for the same two texts.
    # {% translate "literal" %} output is not escaped: the literal is trusted template text.
    return (
        gettext("This video cannot be played right now. Please reload the page."),
        gettext("Please enable JavaScript to play this video."),
    )


def cache_safe_html(context: dict[str, Any]) -> str:
    """``player/cache_safe.html`` (which includes ``player/iframe.html`` without a src)."""
    error_text, no_script = _cache_safe_texts(get_language())
    parts = [
        _frame_open(context),
        f' data-kollus-player data-kollus-reference="{escape(context["reference"])}"',
        f' data-kollus-token-url="{escape(context["token_url"])}"',
    ]
    if context["autoplay"]:
        parts.append(" data-kollus-autoplay")
    parts.append(f' data-kollus-error-text="{error_text}">\n  ')
    if context["poster_url"]:
        parts.append(
            f'<img class="kollus-player__poster" src="{escape(context["poster_url"])}" alt=""'
            ' style="position:absolute;inset:0;width:100%;height:100%;object-fit:cover">'
        )
    parts.append(f"\n  {_iframe(context, '')}\n")
    parts.append(f'  <noscript><p class="kollus-player__message">{no_script}</p></noscript>\n')
    parts.append(f'</div>\n<script src="{escape(player_script_url())}" defer></script>\n')
    return "".join(parts)


# Template name → (its Python twin, every template that twin stands in for).
_TWINS: dict[str, tuple[Callable[[dict[str, Any]], str], tuple[str, ...]]] = {
    RENDER_TIME_TEMPLATE: (render_time_html, (RENDER_TIME_TEMPLATE, IFRAME_TEMPLATE)),
    CACHE_SAFE_TEMPLATE: (cache_safe_html, (CACHE_SAFE_TEMPLATE, IFRAME_TEMPLATE)),
}


def render_default(template_name: str, context: dict[str, Any]) -> SafeString | None:
    """The markup of ``template_name`` written in Python, or ``None`` if a template overrides it.

    ``None`` also for a template without a Python twin: the caller renders the template.
    """
    twin = _TWINS.get(template_name)
    if twin is None:
        return None
    build, stands_in_for = twin
    if not all(map(is_package_template, stands_in_for)):
        return None
    return mark_safe(build(context))  # noqa: S308 - every value above is escaped as the template does
