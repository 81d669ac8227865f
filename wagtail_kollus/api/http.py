"""The HTTP layer both clients share: one session, timeouts, retries, error mapping.

Retry policy (why it looks like this):

* Retried: HTTP 429/502/503/504, timeouts and connection errors; everything else fails fast.
* Only idempotent calls are retried (GET/HEAD/PUT/DELETE/OPTIONS by default). A POST may have
  been applied even if we never saw the answer, so it is retried only when the caller says
  ``idempotent=True``, or when the connection failed *before* anything was sent (connect
  refused/timed out, name resolution), which is safe for every method. The error raised says
  which it was: ``may_have_been_applied`` is False only when no attempt can have been carried
  out (see :class:`KollusAPIError`), so a caller knows whether to look before repeating a write.
* Backoff is exponential with full jitter (``uniform(0, factor * 2**attempt)``, capped at
  ``backoff_max``) so that many workers do not retry in lockstep. A ``Retry-After`` header
  (seconds or HTTP date) replaces the computed delay; when it asks for more than
  ``backoff_max`` we stop and raise :class:`RateLimitedError`/:class:`UnavailableError` with
  ``retry_after`` so the caller (a background task) can reschedule instead of blocking.
* ``total_timeout`` (optional) caps everything a session does, for a caller that keeps a
  person waiting (the chooser): connects, reads, retries, backoff and rate-limit waits all come
  out of one budget that starts when the session is made. Per-attempt timeouts alone do not:
  two attempts of a 10 s read wait 20 s.

Secrets: the Kollus access token travels in the query string. URLs are redacted before they
reach a log line, an exception or a ``repr``, and exceptions are raised ``from None`` so that
the underlying requests/urllib3 exception (whose text contains the full URL) is not chained
into tracebacks.
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import requests
from urllib3.exceptions import NewConnectionError

from .errors import (
    AuthenticationError,
    BadResponseError,
    KollusAPIError,
    NotFoundError,
    RateLimitedError,
    UnavailableError,
    ValidationError,
)
from .redaction import redact

logger = logging.getLogger("wagtail_kollus.api")

RETRY_STATUSES = frozenset({429, 502, 503, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
NON_FIELD_ERRORS = "__all__"


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds from now (either form of the header), or None if absent/bad."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = now if now is not None else datetime.now(UTC).timestamp()
    return max(0.0, when.timestamp() - current)


def parse_field_errors(payload: Any) -> dict[str, list[str]]:
    """Field errors from a Laravel ``{"message", "errors": {f: [..]}}`` or Kollus
    ``{"error": N, "message": ...}`` body (the latter has no fields: it lands on ``__all__``)."""
    if not isinstance(payload, dict):
        return {}
    errors = payload.get("errors")
    if isinstance(errors, dict) and errors:
        return {
            str(name): [str(m) for m in (msgs if isinstance(msgs, list) else [msgs])]
            for name, msgs in errors.items()
        }
    message = payload.get("message")
    if message and "error" in payload:
        return {NON_FIELD_ERRORS: [str(message)]}
    return {}


def _failed_before_sending(exc: requests.ConnectionError) -> bool:
    """True when the connection was never established, so the server saw nothing."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason: Any = exc.args[0] if exc.args else None
    reason = getattr(reason, "reason", reason)  # urllib3 MaxRetryError wraps the cause
    return isinstance(reason, NewConnectionError)


class ApiSession:
    """A ``requests.Session`` with the plugin's timeouts, retries and error mapping.

    ``auth_headers``/``auth_params`` are added only to URLs under ``base_url``, so a credential
    never leaves for another host (Kollus hands out absolute upload/progress URLs).
    """

    def __init__(
        self,
        service: str,
        base_url: str,
        *,
        connect_timeout: float = 3.05,
        read_timeout: float = 15.0,
        max_retries: int = 3,
        backoff_factor: float = 0.5,
        backoff_max: float = 30.0,
        auth_headers: Mapping[str, str] | None = None,
        auth_params: Mapping[str, str] | None = None,
        rate_limiter: Any = None,
        rate_limit_max_wait: float | None = 60.0,
        secrets: Iterable[str] = (),
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        jitter: Callable[[], float] = random.random,
        session: requests.Session | None = None,
        total_timeout: float | None = None,
    ) -> None:
        self.service = service
        self.base_url = base_url.rstrip("/")
        self.timeout = (connect_timeout, read_timeout)
        self.max_retries = max(0, int(max_retries))
        self.backoff_factor = backoff_factor
        self.backoff_max = backoff_max
        self.auth_headers = dict(auth_headers or {})
        self.auth_params = dict(auth_params or {})
        self.rate_limiter = rate_limiter
        self.rate_limit_max_wait = rate_limit_max_wait
        secret_values = set(secrets) | set(self.auth_params.values())
        authorization = self.auth_headers.get("Authorization", "")
        secret_values.add(authorization.split(" ", 1)[-1])  # the token after "Bearer"
        self.secrets = tuple(s for s in secret_values if s and len(s) >= 4)
        self.sleep = sleep
        self.clock = clock
        self.wall_clock = wall_clock
        self.jitter = jitter
        self.session = session or requests.Session()
        self.deadline = None if total_timeout is None else clock() + total_timeout

    def __repr__(self) -> str:
        return f"<ApiSession {self.service} {redact(self.base_url, self.secrets)}>"

    def close(self) -> None:
        self.session.close()

    # --- URL building ---------------------------------------------------------------------

    def url_for(self, path_or_url: str) -> tuple[str, bool]:
        """The absolute URL and whether it belongs to ``base_url`` (gets credentials)."""
        if path_or_url.startswith(("http://", "https://")):
            own = path_or_url == self.base_url or path_or_url.startswith(self.base_url + "/")
            return path_or_url, own
        return f"{self.base_url}/{path_or_url.lstrip('/')}", True

    # --- requests --------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path_or_url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Any = None,
        files: Any = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        timeout: float | tuple[float, float] | None = None,
        rate_limited: bool = True,
    ) -> requests.Response:
        """Send, retry per the policy, map failures to exceptions; return the 2xx response."""
        method = method.upper()
        url, own = self.url_for(path_or_url)
        if own and self.auth_params:
            params = {**self.auth_params, **(params or {})}
        if own and self.auth_headers:
            headers = {**self.auth_headers, **(headers or {})}
        if idempotent is None:
            idempotent = method in IDEMPOTENT_METHODS
        attempt = 0
        # Whether an attempt so far may have been carried out: the error finally raised says
        # so even when its own attempt never left (a retried PUT refused after a read timeout).
        reached = False
        while True:
            try:
                if rate_limited and self.rate_limiter is not None:
                    self.rate_limiter.acquire(self._within_budget(self.rate_limit_max_wait))
                attempt_timeout = self._attempt_timeout(
                    timeout or self.timeout, method, url, params
                )
            except KollusAPIError as refused:  # this attempt was not sent
                refused.may_have_been_applied = reached
                raise
            started = self.clock()
            try:
                response = self.session.request(
                    method,
                    url,
                    params=params,
                    json=json,
                    data=data,
                    files=files,
                    headers=headers,
                    timeout=attempt_timeout,
                )
            except requests.RequestException as exc:
                error, retry_safe = self._transport_error(exc, method, url, params, idempotent)
                reached = error.may_have_been_applied = reached or error.may_have_been_applied
                self._log(method, url, params, None, started, exc)
                delay = self._backoff(attempt)
                if (
                    retry_safe
                    and attempt < self.max_retries
                    and self._budget_allows(delay)
                    and self._rewind(data)
                ):
                    self.sleep(delay)
                    attempt += 1
                    continue
                transport_failure: KollusAPIError | None = error
            else:
                transport_failure = None
            if transport_failure is not None:
                # Raised after the except block, not inside it: ``from None`` only hides the
                # requests exception from tracebacks, it stays reachable as ``__context__``
                # and its text holds the URL with access_token=. Here there is no context.
                raise transport_failure
            self._log(method, url, params, response, started)
            status = response.status_code
            if status < 400:
                return response
            retry_after = parse_retry_after(
                response.headers.get("Retry-After"), now=self.wall_clock()
            )
            answer = self.error_for_response(response, retry_after=retry_after)
            reached = answer.may_have_been_applied = reached or answer.may_have_been_applied
            delay = retry_after if retry_after is not None else self._backoff(attempt)
            if (
                status in RETRY_STATUSES
                and idempotent
                and attempt < self.max_retries
                and (retry_after is None or retry_after <= self.backoff_max)
                and self._budget_allows(delay)
                and self._rewind(data)
            ):
                response.close()
                self.sleep(delay)
                attempt += 1
                continue
            raise answer

    def request_json(self, method: str, path_or_url: str, **kwargs: Any) -> Any:
        """Like :meth:`request`, then parse the body as JSON (unreadable → BadResponseError)."""
        response = self.request(method, path_or_url, **kwargs)
        return self.parse_json(response)

    # --- helpers ---------------------------------------------------------------------------

    def parse_json(self, response: requests.Response) -> Any:
        if response.status_code == 204 or not response.content:
            return None
        content_type = response.headers.get("Content-Type", "")
        if "html" in content_type.lower():
            raise self._bad_response(response, "answered with an HTML page instead of JSON")
        try:
            return response.json()
        except ValueError:
            raise self._bad_response(response, "answered with malformed JSON") from None

    def _bad_response(self, response: requests.Response, what: str) -> BadResponseError:
        return BadResponseError(
            f"The {self.service} API {what}.",
            **self._context(response.request.method or "", response.url, response),
        )

    def bad_shape(self, response_or_method: Any, url: str, detail: str) -> BadResponseError:
        """A BadResponseError for a JSON body that is not the expected shape."""
        return BadResponseError(
            f"The {self.service} API answered with an unexpected shape: {detail}.",
            service=self.service,
            method=str(response_or_method),
            url=url,
            secrets=self.secrets,
        )

    def _context(self, method: str, url: str, response: requests.Response | None) -> dict:
        return {
            "service": self.service,
            "status_code": response.status_code if response is not None else None,
            "method": method,
            "url": url,
            "response_text": response.text if response is not None else "",
            "secrets": self.secrets,
        }

    def error_for_response(
        self, response: requests.Response, *, retry_after: float | None = None
    ) -> KollusAPIError:
        """Map a non-2xx response to the exception family."""
        status = response.status_code
        try:
            payload = response.json()
        except ValueError:
            payload = None
        server_message = payload.get("message") if isinstance(payload, dict) else None
        name = self.service.capitalize()
        context = self._context(response.request.method or "", response.url, response)
        message = f"{name} API: {server_message}" if server_message else None
        if status in (401, 403):
            return AuthenticationError(message, **context)
        if status == 404:
            return NotFoundError(message, **context)
        if status in (400, 422):
            return ValidationError(message, field_errors=parse_field_errors(payload), **context)
        if status == 429:
            return RateLimitedError(message, retry_after=retry_after, **context)
        if status >= 500:
            return UnavailableError(message, retry_after=retry_after, **context)
        return KollusAPIError(message or f"{name} API answered HTTP {status}.", **context)

    def _transport_error(
        self, exc: requests.RequestException, method: str, url: str, params: Any, idempotent: bool
    ) -> tuple[KollusAPIError, bool]:
        """The error to raise for a transport failure, and whether retrying is safe."""
        full_url = requests.Request(method, url, params=params).prepare().url or url
        name = self.service.capitalize()
        sent = True
        if isinstance(exc, requests.ConnectionError) and _failed_before_sending(exc):
            what, safe, sent = "could not be reached", True, False
        elif isinstance(exc, requests.Timeout):
            what, safe = "did not answer in time", idempotent
        elif isinstance(exc, requests.ConnectionError):
            what, safe = "dropped the connection", idempotent
        else:
            what, safe = f"request failed ({type(exc).__name__})", False
        if not safe and method not in IDEMPOTENT_METHODS:
            what += "; the request was not retried because it may have been applied"
        error = UnavailableError(
            f"{name} API {what}.",
            service=self.service,
            method=method,
            url=full_url,
            secrets=self.secrets,
            may_have_been_applied=sent,
        )
        return error, safe

    # --- the total budget (``total_timeout``) --------------------------------------------------

    def _remaining(self) -> float | None:
        return None if self.deadline is None else self.deadline - self.clock()

    def _budget_allows(self, delay: float) -> bool:
        """Whether waiting ``delay`` seconds still leaves time for another attempt."""
        remaining = self._remaining()
        return remaining is None or delay < remaining

    def _within_budget(self, wait: float | None) -> float | None:
        remaining = self._remaining()
        if remaining is None:
            return wait
        return max(0.0, remaining if wait is None else min(wait, remaining))

    def _attempt_timeout(
        self, timeout: float | tuple[float, float], method: str, url: str, params: Any
    ) -> float | tuple[float, float]:
        """This attempt's (connect, read) timeouts, cut to what is left of the budget."""
        remaining = self._remaining()
        if remaining is None:
            return timeout
        if remaining <= 0:
            full_url = requests.Request(method, url, params=params).prepare().url or url
            raise UnavailableError(
                f"{self.service.capitalize()} API did not answer in time.",
                service=self.service,
                method=method,
                url=full_url,
                secrets=self.secrets,
                may_have_been_applied=False,  # this attempt is not sent
            )
        connect, read = timeout if isinstance(timeout, tuple) else (timeout, timeout)
        return (min(connect, remaining), min(read, remaining))

    def _backoff(self, attempt: int) -> float:
        """Full jitter: uniform in [0, factor * 2**attempt], capped."""
        return min(self.backoff_max, self.backoff_factor * (2**attempt)) * self.jitter()

    @staticmethod
    def _rewind(data: Any) -> bool:
        """Bodies that are streams must start over before a retry; False if they cannot."""
        if data is None or isinstance(data, bytes | str | dict | list | tuple):
            return True
        seek = getattr(data, "seek", None)
        if seek is None:
            return False
        try:
            seek(0)
        except (OSError, ValueError):
            return False
        return True

    def _log(
        self,
        method: str,
        url: str,
        params: Any,
        response: requests.Response | None,
        started: float,
        exc: Exception | None = None,
    ) -> None:
        if not logger.isEnabledFor(logging.DEBUG):  # keep the hot path cheap
            return
        shown = response.url if response is not None else url
        outcome = response.status_code if response is not None else type(exc).__name__
        logger.debug(
            "%s %s %s -> %s in %.1f ms",
            self.service,
            method,
            redact(shown, self.secrets),
            outcome,
            (self.clock() - started) * 1000,
        )
