"""Kollus's play callback: may this viewer play this video now? (kinds 1 and 3)

Kollus posts a form (``kind``, ``client_user_id`` — the token's ``cuid`` —,
``media_content_key``, ``player_id``, ``hardware_id``, ``uservalues``…) before a play starts
(kind 1) and once the player is ready (kind 3), and plays only if the answer says so. The
answer is a JWT signed with the security key, of ``{"data": {"kind", "media_content_key",
"result", "message", "expiration_date", "expiration_playtime", "content_expired",
"play_section"…}}`` with integer fields as JSON integers, and the header ``X-KOLLUS-USERKEY``
(the custom key). See ``docs/selling-courses.md``.

Like the platform callbacks, the URL holds ``CALLBACK_TOKEN`` (compared in constant time; a
wrong one gets an empty 403, logged without the path). The answer is made from local data
only — the signed play context in the player URL (``viewer.load_play_context``), the page's
privacy and the recent approvals — in at most three queries: Kollus waits seconds, not more.
Each refusal is also written to ``RefusedPlay`` (the refused plays report): one ``INSERT``,
which a refusal can afford (it reads no approvals to renew); an approved play writes nothing
there.
A request whose play context is missing, altered, expired, or for another viewer or video
gets the same signed refusal, with the same generic message, whatever was wrong.
"""

from __future__ import annotations

import hmac
import json
import logging
import secrets
import time
from datetime import UTC, datetime
from typing import Any

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, HttpResponseNotAllowed
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.csrf import csrf_exempt

from ..accounts import KollusAccount, default_account
from ..conf import kollus_settings
from ..models import ApprovedPlay, RefusalReason, RefusedPlay
from .jwt import sign_token
from .policy import Decision, lazy_page, playback_policy
from .viewer import InvalidPlayContext, load_play_context

logger = logging.getLogger("wagtail_kollus.player")

KIND_BEFORE_PLAY = 1
KIND_PLAYER_READY = 3
_KINDS = (KIND_BEFORE_PLAY, KIND_PLAYER_READY)
# Kollus sends these; anything longer is not from Kollus (and would not fit the table).
_MAX_FIELD_LENGTH = 200


def _unlogged(response: HttpResponse) -> HttpResponse:
    # The path holds the callback token: Django's request logger must not write it.
    response._has_been_logged = True
    return response


def _token_matches(token: str, account: KollusAccount) -> bool:
    expected = str(account.callback_token or "")
    return bool(expected) and hmac.compare_digest(token.encode(), expected.encode())


def _field(request: HttpRequest, name: str) -> str:
    value = request.POST.get(name, "")
    return value if len(value) <= _MAX_FIELD_LENGTH else ""


def _play_context_value(request: HttpRequest) -> str:
    try:
        uservalues = json.loads(request.POST.get("uservalues") or "{}")
    except ValueError:
        return ""
    if not isinstance(uservalues, dict):
        return ""
    value = uservalues.get(str(kollus_settings.PLAY_CONTEXT_USERVALUE), "")
    return value if isinstance(value, str) else ""


def _stream_limit_refusal(limit: int) -> Decision:
    """The refusal of a viewer who already plays on as many other devices as allowed."""
    return Decision.refuse(
        ngettext(
            "You can watch on %(limit)d device at a time. Stop playing on the other device first.",
            "You can watch on %(limit)d devices at a time. Stop playing on one of the others "
            "first.",
            limit,
        )
        % {"limit": limit},
        reason=RefusalReason.STREAM_LIMIT,
    )


def _record_refusal(
    kind: int,
    cuid: str,
    media_content_key: str,
    decision: Decision,
    now: float,
    user_id: int | None = None,
    page_id: int | None = None,
) -> None:
    """One row for the refused plays report: one INSERT, on refusals only.

    A database that cannot take it must not change Kollus's answer: the refusal still goes
    out, and the failure is logged (without the request, whose path holds the token).
    """
    try:
        RefusedPlay.record(
            refused_at=datetime.fromtimestamp(now, tz=UTC),
            cuid=cuid,
            user_id=user_id,
            page_id=page_id,
            media_content_key=media_content_key,
            kind=kind,
            reason=decision.reason or RefusalReason.POLICY,
            message=decision.message,
        )
    except DatabaseError as exc:
        logger.warning("Could not record a refused play: %s", type(exc).__name__)


def _answer(
    kind: int, media_content_key: str, decision: Decision, expires: int, account: KollusAccount
) -> HttpResponse:
    data: dict[str, Any] = {
        "kind": kind,
        "media_content_key": media_content_key,
        "result": 1 if decision.plays else 0,
        "message": decision.message if not decision.plays else "",
        "expiration_date": expires if decision.plays else 0,
        # 0: no limit on the playing time [assumption: Kollus's samples send 0 for none].
        "expiration_playtime": decision.preview_seconds,
        "content_expired": 0,
        "disable_tvout": 0,
        "vmcheck": 0,
    }
    section = decision.play_section()
    if section is not None:
        data["play_section"] = section
    body = sign_token({"data": data}, key=str(account.kollus_security_key))
    response = HttpResponse(body, content_type="text/plain; charset=utf-8")
    response["X-KOLLUS-USERKEY"] = str(account.kollus_custom_key)
    response["Cache-Control"] = "no-store"
    return _unlogged(response)


@csrf_exempt  # Kollus cannot send a CSRF token; the URL's secret authenticates it
def play_callback(
    request: HttpRequest, token: str, account: KollusAccount | None = None
) -> HttpResponse:
    """Answer one play callback (see the module's docstring).

    ``account``: whose callback token the URL must hold and whose keys sign the answer (by
    default the settings' account; a URL pattern may pass another in its ``kwargs``).
    """
    account = account or default_account()
    if request.method != "POST":
        return _unlogged(HttpResponseNotAllowed(["POST"]))
    if not _token_matches(token, account) or not account.kollus_security_key:
        return _unlogged(HttpResponseForbidden())
    kind_text = _field(request, "kind")
    kind = int(kind_text) if kind_text in ("1", "3") else 0
    cuid = _field(request, "client_user_id")
    media_content_key = _field(request, "media_content_key")
    now = time.time()
    expires = int(now) + int(kollus_settings.PLAY_SESSION_SECONDS)
    try:
        if kind not in _KINDS:
            raise InvalidPlayContext(f"kind {kind_text!r}")
        context = load_play_context(
            _play_context_value(request), cuid=cuid, media_content_key=media_content_key
        )
    except InvalidPlayContext as exc:
        logger.info("Play callback refused: no valid play context (%s).", exc)
        generic = Decision.refuse(
            _("This video cannot be played here."), reason=RefusalReason.INVALID_CONTEXT
        )
        _record_refusal(kind, cuid, media_content_key, generic, now)
        return _answer(kind, media_content_key, generic, expires, account)
    # The policy judges the video, whichever lesson's extension of its key the player plays.
    decision = playback_policy().decide(
        context.viewer, lazy_page(context.page_id, context.page_path), context.video_key
    )
    if decision.plays:
        device = _field(request, "hardware_id") or _field(request, "player_id")
        # A player that names no device is a device of its own: it counts, and never renews
        # another's row.
        device = device or "unnamed-" + secrets.token_hex(8)
        limit = int(kollus_settings.PLAYBACK_MAX_STREAMS or 0)
        if limit > 0:
            streams = ApprovedPlay.streams(cuid, device, datetime.fromtimestamp(now, tz=UTC), limit)
            ends = datetime.fromtimestamp(expires, tz=UTC)
            if streams.others >= limit:
                decision = _stream_limit_refusal(limit)
            elif streams.needs_writing(media_content_key, context.page_id, ends):
                ApprovedPlay.record(
                    cuid=cuid,
                    device=device,
                    media_content_key=media_content_key,
                    page_id=context.page_id,
                    expires_at=ends,
                )
    if not decision.plays:
        logger.info("Play callback refused page %s: %s", context.page_id, decision.message)
        _record_refusal(
            kind,
            cuid,
            media_content_key,
            decision,
            now,
            user_id=context.viewer.user_id,
            page_id=context.page_id,
        )
    return _answer(kind, media_content_key, decision, expires, account)
