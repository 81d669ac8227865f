"""Which language the chooser lists contents in by default: the page being edited decides.

The chooser modal is opened by generic widget JavaScript that knows nothing about the page, so
the page is recognised from the request's ``Referer`` (the editor view that opened the modal,
same-origin, so browsers send it under Django's default referrer policy); a ``?locale=xx`` on
that editor URL (Wagtail's snippet and listing views) counts too. An explicit ``?locale=xx`` on
the chooser URL wins. Locales become API languages through ``wagtail_kollus.languages``
(``LOCALE_LANGUAGES``); anything else falls back to ``DEFAULT_LANGUAGE``.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from django.http import HttpRequest
from django.urls import Resolver404, resolve

from ..compat import get_page_model
from ..languages import API_LANGUAGES, api_language, default_language, locale_language

__all__ = ["API_LANGUAGES", "api_language", "default_language", "editor_language"]


def _language_from_referer(request: HttpRequest) -> str | None:
    referer = request.headers.get("referer", "")
    if not referer:
        return None
    parts = urlsplit(referer)
    if parts.netloc and parts.netloc != request.get_host():
        return None
    locale_param = parse_qs(parts.query).get("locale")
    if locale_param:
        return locale_language(locale_param[0])
    try:
        match = resolve(parts.path)
    except Resolver404:
        return None
    page_id = None
    if match.url_name == "edit" and match.namespace.endswith("wagtailadmin_pages"):
        page_id = match.kwargs.get("page_id")
    elif match.url_name == "add" and match.namespace.endswith("wagtailadmin_pages"):
        page_id = match.kwargs.get("parent_page_id")
    if page_id is None:
        return None
    locale_code = (
        get_page_model()
        .objects.filter(pk=page_id)
        .values_list("locale__language_code", flat=True)
        .first()
    )
    return locale_language(locale_code)


def editor_language(request: HttpRequest) -> str:
    """The language the chooser should default to for this request."""
    return (
        locale_language(request.GET.get("locale"))
        or _language_from_referer(request)
        or default_language()
    )
