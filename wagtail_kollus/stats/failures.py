"""Why Kollus gave no statistics, told in the api layer's own terms (``api.errors``).

The screens tell three cases apart, because an editor can do something different in each:

* **transient** — Kollus could not be reached, timed out, answered 5xx or 429
  (``UnavailableError``, ``RateLimitedError``): the figures come back by themselves.
* **refused** — 401/403 (``AuthenticationError``): the site's ``KOLLUS_ACCESS_TOKEN`` is wrong
  or lacks rights; nothing comes back until an administrator corrects it.
* **other** — any other client error or an answer that could not be read: what Kollus said
  is shown, as the upload screen shows it (``media.explain``).
"""

from __future__ import annotations

from ..api.errors import AuthenticationError, KollusAPIError, RateLimitedError, UnavailableError
from ..media.explain import explain

TRANSIENT = "transient"
REFUSED = "refused"
OTHER = "other"


def failure_kind(error: KollusAPIError | None) -> str:
    """``TRANSIENT``, ``REFUSED`` or ``OTHER``; no error known counts as transient (the
    screens said so before the cause was kept)."""
    if error is None or isinstance(error, UnavailableError | RateLimitedError):
        return TRANSIENT
    if isinstance(error, AuthenticationError):
        return REFUSED
    return OTHER


_WEIGHT = {TRANSIENT: 0, OTHER: 1, REFUSED: 2}


def most_telling(
    first: KollusAPIError | None, second: KollusAPIError | None
) -> KollusAPIError | None:
    """Of two failures of one page load, the one to tell: a refused token outranks any other
    cause (fixing it is what the editor must ask for), a client error outranks an outage."""
    if first is None:
        return second
    if second is None:
        return first
    return second if _WEIGHT[failure_kind(second)] > _WEIGHT[failure_kind(first)] else first


def reason(error: KollusAPIError | None) -> str:
    """What Kollus said, as the rest of the admin shows it (no token: messages are redacted)."""
    return explain(error) if error is not None else ""


def for_operators(error: KollusAPIError) -> str:
    """The English sentence for the log and ``kollus_stats``'s exit message: what failed and
    what to do. Redacted like every ``KollusAPIError`` message: never the token itself."""
    kind = failure_kind(error)
    if kind == REFUSED:
        return (
            f"Kollus refused the access token ({reason(error)}): correct the "
            "KOLLUS_ACCESS_TOKEN setting (a token with the rights for statistics); no "
            "statistics are recorded until then."
        )
    if kind == TRANSIENT:
        # Worded as before the causes were told apart (docs/troubleshooting.md quotes it).
        return f"Kollus did not answer: {reason(error)}"
    return f"Kollus refused the statistics request: {reason(error)}"
