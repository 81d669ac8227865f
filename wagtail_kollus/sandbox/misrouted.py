"""Answers that show a callback never reached wagtail-kollus, told apart from its own refusals.

wagtail-kollus's callback views are CSRF-exempt and answer their own errors with empty bodies.
So a 403 carrying Django's CSRF page means the POST reached some other view of the site (a typo
such as ``/kollus/callback/play/`` lands on Wagtail's page serving, which refuses POSTs without
a CSRF token), and a 404 means nothing answers at that path: in both cases the URL in the
console, or the site's ``include("wagtail_kollus.urls")``, is wrong, not the site's policy.
"""

from __future__ import annotations

# Django's CSRF failure page says "CSRF" in every language it is translated to ("CSRF
# verification failed", "CSRF 검증에 실패했습니다", "CSRF検証に失敗しました"), and its
# DEBUG page adds the untranslated reason ("CSRF cookie not set.").
_CSRF_MARKER = "CSRF"

_CHECK = (
    "check the path (…/kollus/callbacks/{kind}/<CALLBACK_TOKEN>/) and that the site's urls.py "
    'has path("kollus/", include("wagtail_kollus.urls"))'
)
MESSAGES = {
    "csrf": "The site answered the {kind} callback with Django's CSRF refusal (403): the "
    "callback URL does not reach wagtail-kollus; " + _CHECK + ".",
    "not-found": "The site answered the {kind} callback with 404: nothing answers at the "
    "callback URL; " + _CHECK + ".",
}


def misrouted(status: int | None, body: str) -> str | None:
    """``"csrf"`` or ``"not-found"`` when an answer shows the URL missed wagtail-kollus."""
    if status == 403 and _CSRF_MARKER in body:
        return "csrf"
    if status == 404:
        return "not-found"
    return None


def describe(diagnosis: str, kind: str) -> str:
    """The sentence for a ``misrouted()`` result, naming the callback kind."""
    return MESSAGES[diagnosis].format(kind=kind.replace("_", "-"))
