"""One readable sentence for a failed Kollus call, for editors and the command line.

``KollusAPIError.describe()`` is a dict for logs and sync records; shown to an editor it reads
like ``{'error': 'UnavailableError', ...}``. The exception's ``message`` is already redacted
(see :mod:`wagtail_kollus.api.errors`), so this only adds the HTTP status when there was one.
"""

from __future__ import annotations

from ..api.errors import KollusAPIError


def explain(error: KollusAPIError) -> str:
    """``"<the API's message or ours> (HTTP 503)"``; no class name, URL or response body."""
    message = error.message.strip() or error.default_message
    status = f"HTTP {error.status_code}"
    # The client's fallback message for an unexpected status already names it
    # ("Kollus API answered HTTP 418."); saying it twice reads like a stutter.
    if error.status_code is None or status in message:
        return message
    return f"{message} ({status})"
