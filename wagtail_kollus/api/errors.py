"""One exception family for both remote APIs (the django-anymail style).

Catch :class:`KollusAPIError` to handle every failure; catch a subclass to react to one kind.
Messages are written for the person who will read them in the admin or a log, and never
contain a key, token or the server private key (they pass through ``redact``).
"""

from __future__ import annotations

from typing import Any

from .redaction import redact


class KollusAPIError(Exception):
    """Base class: a remote call failed.

    ``service`` names the remote ("contents" or "kollus"), ``status_code`` is the HTTP status
    when there was a response, ``retryable`` says whether trying again later may succeed.

    ``may_have_been_applied`` says whether the API may have carried the request out although
    the call failed: a write whose answer was lost (a timeout or a dropped connection after
    sending, a 5xx, an unreadable 2xx). It is False only when the failure proves nothing was
    done: the request never left (connection refused, DNS failure, connect timeout, a missing
    setting, our own rate limiter) or the API answered that it refused it (401/403, 404,
    400/422, 429). A caller that must not repeat a write (the sync engine's create) looks for
    its effect first while this is True. When in doubt it is True.
    """

    retryable = False
    may_have_been_applied = True
    default_message = "The remote API call failed."

    def __init__(
        self,
        message: str | None = None,
        *,
        service: str = "",
        status_code: int | None = None,
        method: str = "",
        url: str = "",
        response_text: str = "",
        secrets: tuple[str, ...] = (),
        may_have_been_applied: bool | None = None,
    ) -> None:
        if may_have_been_applied is not None:  # else the class's answer
            self.may_have_been_applied = may_have_been_applied
        self.service = service
        self.status_code = status_code
        self.method = method
        self.url = redact(url, secrets)
        # Kept short: bodies can be large HTML error pages.
        self.response_text = redact(response_text[:500], secrets)
        self.message = redact(message or self.default_message, secrets)
        super().__init__(self.message)

    def __str__(self) -> str:
        parts = [self.message]
        if self.status_code is not None:
            parts.append(f"(HTTP {self.status_code})")
        if self.method and self.url:
            parts.append(f"[{self.method} {self.url}]")
        return " ".join(parts)

    def describe(self) -> dict[str, Any]:
        """A JSON-able summary for sync logs and admin messages."""
        return {
            "error": type(self).__name__,
            "message": self.message,
            "status_code": self.status_code,
        }


class AuthenticationError(KollusAPIError):
    """401/403: the key or access token is wrong, revoked, or lacks permission."""

    may_have_been_applied = False  # refused before any handler ran
    default_message = "The API rejected the credentials. Check the configured key or access token."


class NotFoundError(KollusAPIError):
    """404: the record or media does not exist (or no longer does)."""

    may_have_been_applied = False
    default_message = "The requested item was not found."


class ValidationError(KollusAPIError):
    """422 (or 400): the API refused the data. ``field_errors`` maps field → list of messages."""

    may_have_been_applied = False  # Laravel validates before the handler writes anything
    default_message = "The API refused the data."

    def __init__(self, message: str | None = None, *, field_errors: dict | None = None, **kw):
        self.field_errors: dict[str, list[str]] = {
            str(k): [str(m) for m in (v if isinstance(v, list | tuple) else [v])]
            for k, v in (field_errors or {}).items()
        }
        super().__init__(message, **kw)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "field_errors": self.field_errors}


class RateLimitedError(KollusAPIError):
    """429, or our own limiter refused to wait that long. ``retry_after`` is in seconds."""

    retryable = True
    # A decision (the contents API does not document its limits): a 429 refuses the request,
    # as RFC 6585 defines it and as Laravel's throttle answers before the handler runs; our
    # own limiter raises this before sending.
    may_have_been_applied = False
    default_message = "Too many requests to the API; try again shortly."

    def __init__(self, message: str | None = None, *, retry_after: float | None = None, **kw):
        self.retry_after = retry_after
        super().__init__(message, **kw)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "retry_after": self.retry_after}


class UnavailableError(KollusAPIError):
    """5xx, timeout or connection failure: the API is down or too slow. Retry later.

    ``retry_after`` (seconds) is set when a 503 carried a ``Retry-After`` header.
    ``may_have_been_applied`` is False when the connection failed before anything was sent.
    """

    retryable = True
    default_message = "The API is unavailable or did not answer in time."

    def __init__(self, message: str | None = None, *, retry_after: float | None = None, **kw):
        self.retry_after = retry_after
        super().__init__(message, **kw)


class BadResponseError(KollusAPIError):
    """The API answered 2xx but with something we cannot read (HTML, malformed JSON, wrong shape)."""

    retryable = True
    default_message = "The API answered with a response that could not be understood."


class ConfigurationError(KollusAPIError):
    """A required setting is missing; raised before any request is sent."""

    may_have_been_applied = False
    default_message = "wagtail-kollus is not configured for this API."


__all__ = [
    "AuthenticationError",
    "BadResponseError",
    "ConfigurationError",
    "KollusAPIError",
    "NotFoundError",
    "RateLimitedError",
    "UnavailableError",
    "ValidationError",
]
