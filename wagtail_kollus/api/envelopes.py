"""Unwrapping the response envelopes of both APIs, in one place.

* contents API: ``{"data": ...}`` (Laravel resources); a bare object is accepted too.
* Kollus v3: ``{"data": ...}``; Kollus v0: ``{"error": 0, "message": ..., "result": ...}``
  where ``error != 0`` is a failure even under HTTP 200.
"""

from __future__ import annotations

from typing import Any

from .errors import AuthenticationError, KollusAPIError, NotFoundError, ValidationError
from .http import NON_FIELD_ERRORS


def unwrap_contents(payload: Any) -> Any:
    """The ``data`` member of a contents API answer, or the bare answer."""
    if isinstance(payload, dict) and "data" in payload:
        return payload["data"]
    return payload


def kollus_error_for(payload: dict, **context: Any) -> KollusAPIError:
    """The exception for a v0 ``{"error": N != 0, "message": ...}`` answered with HTTP 2xx.

    Kollus's error codes are not documented; the message decides the class (assumption,
    see docs/api-clients.md), defaulting to ValidationError, since the server refused the call.
    """
    message = str(payload.get("message") or f"Kollus API error {payload.get('error')}.")
    text = message.lower()
    full = f"Kollus API: {message}"
    if "not found" in text or "not exist" in text:
        return NotFoundError(full, **context)
    if "token" in text or "auth" in text or "permission" in text:
        return AuthenticationError(full, **context)
    return ValidationError(full, field_errors={NON_FIELD_ERRORS: [message]}, **context)


def unwrap_kollus(payload: Any, **context: Any) -> Any:
    """The body of a Kollus answer in either envelope; raises on a v0 ``error != 0``.

    ``context`` (service, method, url, secrets) is passed to the exception for its message.
    """
    if not isinstance(payload, dict):
        return payload
    if "error" in payload and not isinstance(payload.get("error"), dict | list):
        try:
            code = int(payload.get("error") or 0)
        except (TypeError, ValueError):
            code = 1
        if code != 0:
            raise kollus_error_for(payload, **context)
        if "result" in payload:
            return payload["result"]
    if "data" in payload:
        return payload["data"]
    if "result" in payload:
        return payload["result"]
    return payload
