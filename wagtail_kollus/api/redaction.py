"""Keep secrets out of messages, logs and exceptions.

The Kollus API authenticates with ``access_token`` in the query string, so every URL the
client touches carries a secret. Everything that turns a URL or a response into text goes
through :func:`redact` first.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

from ..conf import kollus_settings

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


class RedactingLogFilter(logging.Filter):
    """Masks secrets in records of loggers the plugin does not own.

    urllib3 logs every request line at DEBUG (``"GET /api/...?access_token=… HTTP/1.1"``), and
    Kollus authenticates with ``access_token`` in the query string. Installed on
    ``urllib3.connectionpool`` by the app config, so a site with verbose logging does not ship
    the token to its log store.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message, kollus_settings.secret_values())
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


#: Third-party loggers that print request URLs.
URL_LOGGERS = ("urllib3.connectionpool",)


def install_log_redaction() -> None:
    for name in URL_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactingLogFilter) for f in logger.filters):
            logger.addFilter(RedactingLogFilter())
