"""Keep secrets out of messages, logs and exceptions.

The Kollus API authenticates with ``access_token`` in the query string, so every URL the
client touches carries a secret. Everything that turns a URL or a response into text goes
through :func:`redact` first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

REDACTED = "[redacted]"

_SECRET_QUERY_PARAMS = ("access_token", "token", "jwt", "api_key", "key", "custom_key")
_QUERY_SECRET_RE = re.compile(
    r"(?P<name>\b(?:" + "|".join(_SECRET_QUERY_PARAMS) + r"))=(?P<value>[^&#\s'\"]+)",
    re.IGNORECASE,
)
_BEARER_RE = re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE)


def redact(text: object, secrets: Iterable[str] = ()) -> str:
    """Return ``text`` with query-string secrets, bearer tokens and known secrets masked."""
    result = str(text)
    result = _QUERY_SECRET_RE.sub(lambda m: f"{m.group('name')}={REDACTED}", result)
    result = _BEARER_RE.sub(lambda m: m.group(1) + REDACTED, result)
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        result = result.replace(secret, REDACTED)
    return result
