"""Kollus's LMS (progress) callback: ``callbacks/progress/<token>/``.

Authenticated like the play callback: the URL holds ``CALLBACK_TOKEN`` (compared in constant
time; a wrong one gets an empty 403, logged without the path). The learner and the lesson come
from the **signed play context** the player URL carries (``PLAY_CONTEXT_USERVALUE``, signed
when the player was shown: the user's pk, the page, the key the player plays), checked against
the report's ``client_user_id`` and ``media_content_key``; a report without a valid one —
forged, altered, for another viewer or video, older than ``PROGRESS_CONTEXT_MAX_AGE`` — or from
an anonymous viewer changes nothing. A usable report is one upsert (``store.record_report``).

Kollus retries what was not answered with 200, so every report that was read is answered 200
(``ignored`` or ``recorded`` in a short text body), whatever was done with it: a retry of a
malformed report would be as malformed. Only a wrong token, or a wrong method, is refused.
"""

from __future__ import annotations

import hmac
import logging

from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, HttpResponseNotAllowed
from django.views.decorators.csrf import csrf_exempt

from ..accounts import KollusAccount, default_account
from ..conf import kollus_settings
from ..playback.viewer import InvalidPlayContext, PlayContext, load_play_context
from .lms import LmsReport, MalformedReport, parse_json_data
from .store import record_report

logger = logging.getLogger("wagtail_kollus.progress")


def _unlogged(response: HttpResponse) -> HttpResponse:
    # The path holds the callback token: Django's request logger must not write it.
    response._has_been_logged = True
    return response


def _answer(text: str) -> HttpResponse:
    response = HttpResponse(text, content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "no-store"
    return _unlogged(response)


def _token_matches(token: str, account: KollusAccount) -> bool:
    expected = str(account.callback_token or "")
    return bool(expected) and hmac.compare_digest(token.encode(), expected.encode())


def _play_context(report: LmsReport) -> PlayContext:
    value = report.uservalues.get(str(kollus_settings.PLAY_CONTEXT_USERVALUE), "")
    return load_play_context(
        value,
        cuid=report.cuid,
        media_content_key=report.media_content_key,
        max_age=int(kollus_settings.PROGRESS_CONTEXT_MAX_AGE),
    )


@csrf_exempt  # Kollus cannot send a CSRF token; the URL's secret authenticates it
def lms_callback(
    request: HttpRequest, token: str, account: KollusAccount | None = None
) -> HttpResponse:
    """Record one LMS report (see the module's docstring). ``account``: whose callback token
    the URL must hold (by default the settings' account)."""
    if request.method != "POST":
        return _unlogged(HttpResponseNotAllowed(["POST"]))
    if not _token_matches(token, account or default_account()):
        return _unlogged(HttpResponseForbidden())
    if not kollus_settings.PROGRESS_TRACKING:
        return _answer("ignored")
    try:
        report = parse_json_data(request.POST.get("json_data"))
        context = _play_context(report)
    except (MalformedReport, InvalidPlayContext) as exc:
        logger.info("LMS callback ignored: %s.", exc)
        return _answer("ignored")
    user_id, page_id = context.viewer.user_id, context.page_id
    if user_id is None or page_id is None:
        return _answer("ignored")  # an anonymous viewer, or a player on no page: not tracked
    record_report(user_id, page_id, context.video_key, report)
    return _answer("recorded")
