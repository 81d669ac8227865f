"""Which contents API language a Wagtail locale stands for: one rule, used everywhere.

The contents API serves ``ko``, ``en`` and ``ja`` (reference: ``language`` on list and read).
A Wagtail locale is mapped with ``WAGTAIL_KOLLUS["LOCALE_LANGUAGES"]``, merged over the identity
for ko/en/ja: its exact code first (``"en-gb"``), then its base language (``"en"``). A locale
mapped to ``None``, or not mapped at all, has no API language and callers fall back to
``DEFAULT_LANGUAGE``. Used by the chooser (the language it lists in) and by sync (the language
a page's record is created in).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured

from .conf import DEFAULTS, kollus_settings

# The languages the contents API serves (reference/contents-api.md).
API_LANGUAGES = ("ko", "en", "ja")


def _normalise(code: Any) -> str:
    return str(code or "").strip().lower().replace("_", "-")


def api_language(code: str | None) -> str | None:
    """An API language named by ``code`` (``"en-GB"`` → ``"en"``); None when the API has none.

    For values that already mean an API language (a ``?language=`` parameter, a setting);
    Wagtail locales go through :func:`locale_language`, which honours ``LOCALE_LANGUAGES``.
    """
    base = _normalise(code).split("-")[0]
    return base if base in API_LANGUAGES else None


def locale_languages() -> dict[str, str | None]:
    """``LOCALE_LANGUAGES`` merged over the default identity, keys normalised, values checked."""
    configured = kollus_settings.LOCALE_LANGUAGES
    if not isinstance(configured, dict):
        raise ImproperlyConfigured(
            "WAGTAIL_KOLLUS['LOCALE_LANGUAGES'] must be a dict of Wagtail locale codes to "
            f"contents API languages ({', '.join(API_LANGUAGES)}), not {type(configured).__name__}."
        )
    merged: dict[str, str | None] = {}
    for locale_code, language in {**DEFAULTS["LOCALE_LANGUAGES"], **configured}.items():
        if language is not None and language not in API_LANGUAGES:
            raise ImproperlyConfigured(
                f"WAGTAIL_KOLLUS['LOCALE_LANGUAGES'][{locale_code!r}] is {language!r}: the "
                f"contents API serves {', '.join(API_LANGUAGES)} (or None for no language)."
            )
        merged[_normalise(locale_code)] = language
    return merged


def locale_language(locale_code: str | None) -> str | None:
    """The API language of a Wagtail locale code (``"en-gb"`` → ``"en"``), or None."""
    code = _normalise(locale_code)
    if not code:
        return None
    mapping = locale_languages()
    if code in mapping:
        return mapping[code]
    return mapping.get(code.split("-")[0])


def default_language() -> str:
    """``DEFAULT_LANGUAGE`` as an API language (``ko`` when it names none)."""
    return api_language(kollus_settings.DEFAULT_LANGUAGE) or API_LANGUAGES[0]


def page_language(page: Any) -> str:
    """The API language of ``page``'s locale, else ``DEFAULT_LANGUAGE``."""
    locale = getattr(page, "locale", None)
    return locale_language(getattr(locale, "language_code", None)) or default_language()
