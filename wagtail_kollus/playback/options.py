"""Player options signed into every token: watermark, DRM, subtitles, N-screen and intro.

The site sets defaults in ``WAGTAIL_KOLLUS`` (``docs/player.md``, "Player options"); a
``KollusVideoBlock`` overrides what an editor would choose per video (no skipping ahead, the
watermark's code, N-screen, skipping the intro). They are resolved each time a token is
signed — by the render-time player and by the token endpoint alike — for the viewer being
served, so a page from a shared cache never carries anyone's watermark: its signed reference
holds only the block's *choice* ("e-mail"), and the token endpoint writes the address of the
viewer who asks, into the signed JWT only.

What Kollus documents and what is assumed (``docs/player.md`` repeats it; change it here):

* ``video_watermarking_code_policy`` is a top-level claim ``{code_kind, font_size, font_color,
  alpha, show_time, hide_time, enable_html5_player}`` [DOC]. **Assumed**: ``code_kind`` is the
  text the player draws (Kollus's PHP sample calls it "the characters shown"); integers are
  JSON integers, ``font_color`` six hex digits without ``#``, ``alpha`` 0-255, the times in
  seconds.
* ``drm_policy`` and ``subtitle_policy`` are per-item options [DOC]. **Assumed**: the
  subtitle policy that keeps one language is ``{"filter_main": ["<code>"]}`` (Kollus added
  ``filter_main``/``filter_sub`` in JWT v1.17) and Kollus's codes are the base language codes
  (``ko``, ``en``, ``ja``); both are settings (``SUBTITLE_POLICY_TEMPLATE``,
  ``SUBTITLE_LANGUAGES``).
* ``seek``, ``seekable_end`` and ``disable_nscreen`` are per-item options [DOC]. **Assumed**:
  with ``seek: false``, ``seekable_end`` is how far (seconds) the viewer may still seek (the
  furthest point watched, in Kollus's samples); ``seek: false`` alone allows no seeking.
* An intro is an ``mc`` item ``{"mckey", "intr": true}`` before the video [DOC].
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..api.errors import ConfigurationError
from ..conf import kollus_settings
from .viewer import Viewer

WATERMARK_CLAIM = "video_watermarking_code_policy"
# What the watermark shows: the viewer id Kollus also knows (cuid), the e-mail or the name.
WATERMARK_CODES = ("user_id", "email", "name")
# A block's watermark choice that turns the site's watermark off.
WATERMARK_OFF = "off"
WATERMARK_DEFAULTS: dict[str, Any] = {
    "font_size": 7,
    "font_color": "FFFFFF",
    "alpha": 128,
    "show_time": 10,
    "hide_time": 5,
    "enable_html5_player": True,
}
# The integer fields of the watermark and the values that make sense for them.
_WATERMARK_RANGES = {
    "font_size": (1, 100),
    "alpha": (0, 255),
    "show_time": (1, 86400),
    "hide_time": (0, 86400),
}
_HEX_COLOUR = re.compile(r"^[0-9A-Fa-f]{6}$")
# The drawn text is cut to this many characters (a name or an address, not a paragraph).
WATERMARK_MAX_LENGTH = 100
PAGE_LANGUAGE = "page_language"
LANGUAGE_PLACEHOLDER = "{language}"

# The block's choices, as they travel in a signed reference (``Playable.player_options``).
OPTION_WATERMARK = "watermark"
OPTION_INTRO = "intro"
OPTION_LANGUAGE = "language"


def _setting_error(name: str, problem: str) -> ConfigurationError:
    return ConfigurationError(f"WAGTAIL_KOLLUS[{name!r}] {problem}", service="kollus")


def clean_watermark(value: Any) -> dict[str, Any] | None:
    """``PLAYER_WATERMARK`` with its defaults filled in, or None; ``ValueError`` says what is wrong."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ValueError(f"must be None or a dict, not {type(value).__name__}.")
    unknown = sorted(set(value) - {"code", *WATERMARK_DEFAULTS})
    if unknown:
        raise ValueError(
            f"has unknown keys {unknown}; the keys are 'code' and {sorted(WATERMARK_DEFAULTS)}."
        )
    style = {"code": value.get("code", "user_id"), **WATERMARK_DEFAULTS}
    style.update({k: v for k, v in value.items() if k != "code"})
    if style["code"] not in WATERMARK_CODES:
        raise ValueError(f"['code'] is {style['code']!r}; use one of {list(WATERMARK_CODES)}.")
    for name, (low, high) in _WATERMARK_RANGES.items():
        number = style[name]
        if isinstance(number, bool) or not isinstance(number, int) or not low <= number <= high:
            raise ValueError(f"[{name!r}] is {number!r}; use a whole number from {low} to {high}.")
    colour = style["font_color"]
    if not isinstance(colour, str) or not _HEX_COLOUR.match(colour.lstrip("#")):
        raise ValueError(f"['font_color'] is {colour!r}; use six hex digits such as 'FFFFFF'.")
    style["font_color"] = colour.lstrip("#").upper()
    if not isinstance(style["enable_html5_player"], bool):
        raise ValueError("['enable_html5_player'] must be True or False.")
    return style


def clean_json_object(value: Any) -> dict[str, Any] | None:
    """A dict that JSON can carry as it is (``PLAYER_DRM_POLICY``, ``SUBTITLE_POLICY_TEMPLATE``)."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ValueError(f"must be None or a dict, not {type(value).__name__}.")
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"cannot be written as JSON: {exc}.") from exc
    return dict(value)


def clean_subtitle_languages(value: Any) -> dict[str, str | None]:
    """``SUBTITLE_LANGUAGES`` with normalised keys: ``{"en-gb": "en", "fr": None}``."""
    if not isinstance(value, Mapping):
        raise ValueError(f"must be a dict of Wagtail locale codes, not {type(value).__name__}.")
    cleaned: dict[str, str | None] = {}
    for locale_code, language in value.items():
        if not isinstance(locale_code, str) or not (
            language is None or (isinstance(language, str) and language.strip())
        ):
            raise ValueError(
                f"[{locale_code!r}] is {language!r}; map a locale code to a Kollus subtitle "
                "language code (a string) or to None."
            )
        cleaned[_normalise(locale_code)] = language.strip() if language else None
    return cleaned


def _normalise(code: Any) -> str:
    return str(code or "").strip().lower().replace("_", "-")


def subtitle_language(locale_code: str | None) -> str | None:
    """The Kollus subtitle language of a Wagtail locale: mapped by ``SUBTITLE_LANGUAGES``
    (exact code, then base language), else its base language (``"en-gb"`` → ``"en"``)."""
    code = _normalise(locale_code)
    if not code:
        return None
    mapping = _checked(clean_subtitle_languages, "SUBTITLE_LANGUAGES")
    base = code.split("-")[0]
    for candidate in (code, base):
        if candidate in mapping:
            return mapping[candidate]
    return base


def subtitle_policy(language: str) -> dict[str, Any] | None:
    """``SUBTITLE_POLICY_TEMPLATE`` with ``{language}`` replaced by ``language``."""
    template = _checked(clean_json_object, "SUBTITLE_POLICY_TEMPLATE")
    if not template:
        return None

    def fill(value: Any) -> Any:
        if isinstance(value, str):
            return value.replace(LANGUAGE_PLACEHOLDER, language)
        if isinstance(value, list):
            return [fill(item) for item in value]
        if isinstance(value, dict):
            return {key: fill(item) for key, item in value.items()}
        return value

    return fill(template)


def page_language(page: Any) -> str | None:
    """The language code of ``page``'s Wagtail locale (None without a page).

    A page loaded with its locale costs nothing more; the token endpoint's lazy page (its id
    only) costs one query, and only when the reference did not bring the language along.
    """
    if page is None or getattr(page, "pk", None) is None:
        return None
    if "locale_id" in page.__dict__:
        locale = getattr(page, "locale", None)
        return getattr(locale, "language_code", None)
    from wagtail.models import Page

    return Page.objects.filter(pk=page.pk).values_list("locale__language_code", flat=True).first()


# name -> (the setting's value, its cleaned form): a token is signed per player, and the
# settings change only when Django's settings do (a new object then, so identity tells).
_cleaned: dict[str, tuple[Any, Any]] = {}


def _checked(clean: Any, name: str) -> Any:
    """The setting ``name`` through ``clean``, or a ConfigurationError naming it. Callers
    must not change the answer (it is kept for the next token)."""
    value = getattr(kollus_settings, name)
    kept = _cleaned.get(name)
    if kept is not None and kept[0] is value:
        return kept[1]
    try:
        cleaned = clean(value)
    except ValueError as exc:
        raise _setting_error(name, str(exc)) from exc
    _cleaned[name] = (value, cleaned)
    return cleaned


def watermark_style(choice: str | None) -> dict[str, Any] | None:
    """The watermark to draw for a block's ``choice`` ("" or None: the site's; "off"; a code)."""
    site = _checked(clean_watermark, "PLAYER_WATERMARK")
    if not choice:
        return site
    if choice == WATERMARK_OFF:
        return None
    if choice not in WATERMARK_CODES:
        raise ValueError(f"Unknown watermark choice {choice!r}.")
    return {**(site or {"code": choice, **WATERMARK_DEFAULTS}), "code": choice}


def watermark_text(code: str, viewer: Viewer) -> str:
    """What the watermark shows for ``viewer``: only ever the viewer's own id, address or name.

    The user is the viewer's (the request's user, or read by the viewer's own pk); an
    anonymous viewer, or a user without that field, shows their viewer id (cuid) instead, so
    the watermark is never blank and never anyone else's.
    """
    text = ""
    if code != "user_id" and viewer.user_id is not None:
        user = viewer.user
        if user is not None and code == "email":
            text = str(getattr(user, user.get_email_field_name(), "") or "")
        elif user is not None and code == "name":
            text = user.get_full_name() or user.get_username()
    return (text.strip() or viewer.cuid)[:WATERMARK_MAX_LENGTH]


def watermark_claim(style: Mapping[str, Any], text: str) -> dict[str, Any]:
    """Kollus's ``video_watermarking_code_policy`` for ``style``, drawing ``text``."""
    return {
        "code_kind": text,
        "font_size": style["font_size"],
        "font_color": style["font_color"],
        "alpha": style["alpha"],
        "show_time": style["show_time"],
        "hide_time": style["hide_time"],
        "enable_html5_player": style["enable_html5_player"],
    }


def reference_options(player_options: Mapping[str, Any], page: Any) -> dict[str, Any]:
    """What a cache-safe reference carries besides the block's choices: the page's language,
    read while the page is at hand, so the token endpoint need not read the page for it."""
    options = dict(player_options)
    if kollus_settings.PLAYER_SUBTITLES == PAGE_LANGUAGE and OPTION_LANGUAGE not in options:
        language = page_language(page)
        if language:
            options[OPTION_LANGUAGE] = language
    return options


@dataclass(frozen=True)
class SignedOptions:
    """The options of one token: per item (``mc``), top-level claims, and the intro's key."""

    mc_options: dict[str, Any]
    claims: dict[str, Any] = field(default_factory=dict)
    intro_media_content_key: str = ""


def resolve_options(
    viewer: Viewer,
    page: Any,
    mc_options: Mapping[str, Any] | None,
    player_options: Mapping[str, Any] | None,
) -> SignedOptions:
    """The site's defaults under the block's own options, for ``viewer`` of ``page``.

    Raises :class:`~wagtail_kollus.api.errors.ConfigurationError` for a malformed setting (the
    system checks report it first: ``docs/player.md``).
    """
    options = dict(mc_options or {})
    chosen = dict(player_options or {})
    settings = kollus_settings
    if not chosen and not (
        settings.PLAYER_WATERMARK is not None
        or settings.PLAYER_DRM_POLICY
        or settings.PLAYER_SUBTITLES
        or settings.PLAYER_DISABLE_NSCREEN
        or settings.PLAYER_INTRO_MEDIA_CONTENT_KEY
    ):
        return SignedOptions(mc_options=options)  # the defaults: nothing to add
    # What the block set wins; the site's defaults fill in the rest.
    if kollus_settings.PLAYER_DISABLE_NSCREEN is True:
        options.setdefault("disable_nscreen", True)
    drm_policy = _checked(clean_json_object, "PLAYER_DRM_POLICY")
    if drm_policy and "drm_policy" not in options:
        options["drm_policy"] = copy.deepcopy(drm_policy)
    if kollus_settings.PLAYER_SUBTITLES == PAGE_LANGUAGE and "subtitle_policy" not in options:
        locale_code = chosen.get(OPTION_LANGUAGE) or page_language(page)
        language = subtitle_language(locale_code)
        policy = subtitle_policy(language) if language else None
        if policy:
            options["subtitle_policy"] = policy
    claims: dict[str, Any] = {}
    style = watermark_style(chosen.get(OPTION_WATERMARK))
    if style is not None:
        claims[WATERMARK_CLAIM] = watermark_claim(style, watermark_text(style["code"], viewer))
    intro = ""
    if chosen.get(OPTION_INTRO) is not False:
        intro = str(kollus_settings.PLAYER_INTRO_MEDIA_CONTENT_KEY or "").strip()
    return SignedOptions(mc_options=options, claims=claims, intro_media_content_key=intro)
