"""Keep the callback token out of every log line, Django's own included.

Kollus signs nothing and its console takes only a URL, so the callback URLs hold the secret
``CALLBACK_TOKEN`` as a path segment. Django writes request paths to its logs: ``django.request``
("Not Found: …", "Bad Request: …"), ``django.security.*`` (a CSRF refusal, a disallowed host, a
body too big, each on a logger of its own), ``django.server`` (runserver's line for every
request), and WSGI/ASGI servers running in the same process do too (``gunicorn.access``,
``uvicorn.access``). The callback views answer their own refusals without Django's line, but a
request can fail before it reaches them.

So the app, when it starts, wraps the logging record factory: a record of one of those loggers
is masked as it is created, before any filter or handler (the site's, an error tracker's, a
test's) sees it. Masked: every path segment after the plugin's ``…/callbacks/`` prefix but a
callback kind (``/kollus/callbacks/upload/[redacted]/``), and the configured token anywhere
in the message. The factory, not a logger filter, because a filter on ``django.security`` does
not see the records of ``django.security.csrf`` and its siblings, which Django names after
exception classes.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse

from ..accounts import default_account
from ..api.redaction import REDACTED

#: Loggers (with their children) whose records may carry a request path.
PATH_LOGGERS = (
    "django.request",
    "django.security",
    "django.server",
    # SQL at DEBUG, with its parameters: Wagtail's redirect middleware looks every 404's path
    # up in its table. (Records exist only where a site turned SQL logging on.)
    "django.db.backends",
    "gunicorn.access",
    "uvicorn.access",
)
# A token shorter than this would mask unrelated text; W004 asks for 16 characters or more.
_MIN_TOKEN_LENGTH = 8
_SEGMENTS = r"[^\s?#\"'<>]*"

_computing = threading.local()


def _logs_paths(logger_name: str) -> bool:
    return any(
        logger_name == name or logger_name.startswith(name + ".") for name in PATH_LOGGERS
    )


@lru_cache(maxsize=8)
def _callback_prefix_pattern(urlconf: str) -> re.Pattern[str] | None:
    """``/kollus/callbacks/`` (wherever the site included the plugin's URLs) + the rest."""
    try:
        path = reverse("wagtail_kollus:callback-upload", kwargs={"token": "t"}, urlconf=urlconf)
    except NoReverseMatch:  # the site did not include wagtail_kollus.urls
        return None
    # Without the script prefix: a record may hold ``request.path`` or ``path_info``.
    route = "/" + path[len(get_script_prefix()):]
    prefix = route[: -len("upload/t/")]
    return re.compile(f"(?P<prefix>{re.escape(prefix)})(?P<rest>{_SEGMENTS})")


def _mask_rest(rest: str) -> str:
    # Imported here: a site's LOGGING may name this module's filter, and Django configures
    # logging before the app registry, when no model can be imported yet.
    from ..models import CallbackKind

    segments = rest.split("/")
    return "/".join(
        segment if not segment or (index == 0 and segment in CallbackKind.values) else REDACTED
        for index, segment in enumerate(segments)
    )


def mask_callback_urls(text: str) -> str:
    """``text`` with the secret parts of callback URLs and the callback token masked."""
    token = str(default_account().callback_token or "")
    if len(token) >= _MIN_TOKEN_LENGTH:
        text = text.replace(token, REDACTED)
    if "callbacks/" not in text or getattr(_computing, "active", False):
        return text
    # Reversing may import the URLconf, whose import may log: that record is not masked here.
    _computing.active = True
    try:
        pattern = _callback_prefix_pattern(get_urlconf() or settings.ROOT_URLCONF)
    finally:
        _computing.active = False
    if pattern is None:
        return text
    return pattern.sub(lambda match: match["prefix"] + _mask_rest(match["rest"]), text)


def _masked(value: Any) -> Any:
    """Strings masked, also inside the tuples, lists and dicts of SQL parameters."""
    if isinstance(value, str):
        return mask_callback_urls(value)
    if type(value) in (tuple, list):  # not their subclasses: a namedtuple takes fields
        return type(value)(_masked(item) for item in value)
    if isinstance(value, dict):
        return {key: _masked(item) for key, item in value.items()}
    return value


def mask_record(record: logging.LogRecord) -> None:
    """Mask ``record``'s message and arguments in place (formatting stays the handler's job)."""
    if isinstance(record.msg, str):
        record.msg = mask_callback_urls(record.msg)
        if isinstance(record.args, dict):
            record.args = {key: _masked(value) for key, value in record.args.items()}
        elif record.args:
            record.args = tuple(_masked(arg) for arg in record.args)
        return
    # A message that is not a string (an exception, say): keep only its masked text.
    message = record.getMessage()
    masked = mask_callback_urls(message)
    if masked != message:
        record.msg, record.args = masked, ()


class CallbackURLLogFilter(logging.Filter):
    """The same masking as a filter, for a site's own ``LOGGING`` (another server's logger)."""

    def filter(self, record: logging.LogRecord) -> bool:
        mask_record(record)
        return True


def install_callback_url_masking() -> None:
    """Wrap the log record factory once (idempotent: ``ready()`` may run more than once)."""
    previous: Callable[..., logging.LogRecord] = logging.getLogRecordFactory()
    if getattr(previous, "masks_kollus_callback_urls", False):
        return

    def masking_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if _logs_paths(record.name):
            try:
                mask_record(record)
            except Exception:  # noqa: BLE001 - logging must never fail because of us
                record.msg, record.args = "[unloggable record: masking failed]", ()
        return record

    masking_factory.masks_kollus_callback_urls = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(masking_factory)
