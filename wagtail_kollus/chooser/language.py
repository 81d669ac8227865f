"""Which language the chooser lists contents in by default: the page being edited decides.

The chooser modal is opened by generic widget JavaScript that knows nothing about the page, so
the page is recognised from the request's ``Referer`` (the editor view that opened the modal,
same-origin, so browsers send it under Django's default referrer policy). An explicit
``?locale=xx`` on the chooser URL wins. Anything else falls back to ``DEFAULT_LANGUAGE``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.http import HttpRequest
from django.urls import Resolver404, resolve

from ..compat import get_page_model
from ..conf import kollus_settings

# The languages the contents API serves (reference/contents-api.md).
API_LANGUAGES = ("ko", "en", "ja")


def api_language(code: str | None) -> str | None:
    """``"en-gb"`` → ``"en"``; None when the API does not serve that language."""
    if not code:
        return None
    base = code.lower().replace("_", "-").split("-")[0]
    return base if base in API_LANGUAGES else None


def default_language() -> str:
    return api_language(kollus_settings.DEFAULT_LANGUAGE) or API_LANGUAGES[0]


def _page_language_from_referer(request: HttpRequest) -> str | None:
    referer = request.headers.get("referer", "")
    if not referer:
        return None
    parts = urlsplit(referer)
    if parts.netloc and parts.netloc != request.get_host():
        return None
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
    return api_language(locale_code)


def editor_language(request: HttpRequest) -> str:
    """The language the chooser should default to for this request."""
    return (
        api_language(request.GET.get("locale"))
        or _page_language_from_referer(request)
        or default_language()
    )
