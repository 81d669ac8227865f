"""The type and shape of every ``WAGTAIL_KOLLUS`` setting, and the errors (``E006``, ``E003``)
for values that are not of theirs.

A value of the wrong type passes silently until the code that reads it runs: an int where a
list belongs fails every publish in the worker ("'int' object is not iterable"). One table,
:data:`SETTING_SHAPES`, says what each setting must be; :func:`shape_errors` reports every value
that is not, and ``checks.check_settings`` (the registered check) reports what it returns.
A setting added to ``conf.py`` gets a shape here, or a check of its own
(``tests/test_checks_config.py`` enforces it).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from django.conf import settings
from django.core.checks import Error
from django.core.exceptions import ImproperlyConfigured

from .api.errors import ConfigurationError
from .conf import DEFAULTS, SECRET_SETTINGS, SETTINGS_NAME, SITE_SECRET_SETTINGS, kollus_settings
from .media.forms import OVERRIDABLE_UPLOAD_FIELDS
from .sync.engine import POLICIES as CONFLICT_POLICIES


def is_http_url(value: Any) -> bool:
    """An absolute http(s) URL (scheme and host), as the URL settings must be."""
    if not isinstance(value, str):
        return False
    parsed = urlparse(value)
    return parsed.scheme in ("http", "https") and bool(parsed.netloc)


@dataclass(frozen=True)
class Shape:
    """What a setting's value must be: ``expected`` completes "must be …"."""

    expected: str
    accepts: Callable[[Any], bool]
    check_id: str = "wagtail_kollus.E006"


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_list_of(value: Any, item: Callable[[Any], bool]) -> bool:
    return isinstance(value, list | tuple) and all(item(element) for element in value)


def _is_hh_mm(value: Any) -> bool:
    match = isinstance(value, str) and re.fullmatch(r"(\d{1,2}):(\d{2})", value)
    return bool(match) and int(match[1]) < 24 and int(match[2]) < 60


def _is_tag_names(value: Any) -> bool:
    # chooser_tags(): {id: "name"} or a list of (id, name) pairs, ids as ints or digit strings.
    pairs = value.items() if isinstance(value, Mapping) else value
    if not isinstance(pairs, list | tuple) and not isinstance(value, Mapping):
        return False
    return all(
        isinstance(pair, list | tuple)
        and len(pair) == 2
        and (_is_int(pair[0]) or (isinstance(pair[0], str) and pair[0].strip().isdigit()))
        and isinstance(pair[1], str)
        for pair in pairs
    )


def _optional(shape: Shape) -> Shape:
    return Shape(f"None or {shape.expected}", lambda v: v is None or shape.accepts(v))


def _one_of(*choices: str) -> Shape:
    return Shape("one of " + ", ".join(map(repr, choices)), lambda v: v in choices)


POSITIVE_NUMBER = Shape(
    "a positive number", lambda v: _is_number(v) and v > 0, "wagtail_kollus.E003"
)
NUMBER_OR_ZERO = Shape("a number, 0 or more", lambda v: _is_number(v) and v >= 0)
COUNT = Shape("a whole number, 0 or more (0: none)", lambda v: _is_int(v) and v >= 0)
POSITIVE_COUNT = Shape("a whole number above 0", lambda v: _is_int(v) and v > 0)
FLAG = Shape("True or False", lambda v: isinstance(v, bool))
TEXT = Shape("a string", lambda v: isinstance(v, str))
NAME = Shape("a non-empty string", lambda v: isinstance(v, str) and bool(v.strip()))
ID_LIST = Shape("a list of integer ids, such as [5] (or [])", lambda v: _is_list_of(v, _is_int))
DELAY_LIST = Shape(
    "a list of seconds, such as [30, 60, 300]",
    lambda v: _is_list_of(v, lambda d: _is_number(d) and d >= 0),
)
# The statuses of a content record (reference: the contents API's ``status``).
RECORD_STATUS = _one_of("publish", "pending", "paused", "in_review", "banned")

# Every setting not checked by a check of its own (in checks.py, playback/checks.py, or by the
# plugin's own readers: _loader_errors below).
SETTING_SHAPES: dict[str, Shape] = {
    **dict.fromkeys(
        ("CONTENTS_API_KEY", "KOLLUS_ACCESS_TOKEN", "KOLLUS_SECURITY_KEY", "KOLLUS_CUSTOM_KEY",
         "KOLLUS_SERVICE_ACCOUNT_KEY", "KOLLUS_CHANNEL_KEY", "KOLLUS_CATEGORY_KEY",
         "CALLBACK_TOKEN", "VIEWER_ID_KEY", "SYNC_DEFAULT_DESCRIPTION_HTML"),
        TEXT,
    ),
    **dict.fromkeys(
        ("CONNECT_TIMEOUT", "READ_TIMEOUT", "BACKOFF_FACTOR", "BACKOFF_MAX",
         "PLAYER_TOKEN_LIFETIME", "CHOOSER_CACHE_TIMEOUT", "CALLBACK_CLAIM_SECONDS",
         "PLAYER_REFERENCE_MAX_AGE", "PLAYER_TOKEN_RATE_WINDOW", "PLAY_SESSION_SECONDS",
         "PROGRESS_CONTEXT_MAX_AGE", "CATEGORIES_MAX_AGE", "STATS_CACHE_TIMEOUT",
         "STATS_LAST_GOOD_TIMEOUT", "STATS_OUTAGE_PAUSE", "STATS_REQUEST_MAX_WAIT",
         "SYNC_RETRY_HORIZON", "SYNC_RETRY_BACKOFF", "SYNC_RETRY_BACKOFF_MAX",
         "SYNC_CLAIM_SECONDS", "MEDIA_RESYNC_HOURS", "IMPORT_TASK_SECONDS",
         "STUCK_AFTER_MINUTES"),
        POSITIVE_NUMBER,
    ),
    **dict.fromkeys(
        ("SYNC_INLINE_RETRY_MAX", "SYNC_COALESCE_SECONDS", "SYNC_COALESCE_MAX",
         "PROGRESS_RESUME_END_MARGIN"),
        NUMBER_OR_ZERO,
    ),
    **dict.fromkeys(
        ("MAX_RETRIES", "KOLLUS_RATE_LIMIT_PER_SECOND", "KOLLUS_RATE_LIMIT_PER_MINUTE",
         "CONTENTS_RATE_LIMIT_PER_SECOND", "CONTENTS_RATE_LIMIT_PER_MINUTE",
         "PLAYER_TOKEN_RATE_LIMIT", "PLAYER_TOKEN_RATE_LIMIT_PER_IP", "PLAYBACK_PREVIEW_SECONDS",
         "PLAYBACK_MAX_STREAMS", "REFUSED_PLAYS_RETENTION_DAYS", "STATS_REQUEST_RETRIES",
         "STATS_LIVE_DAYS_PER_VIDEO"),
        COUNT,
    ),
    "STATS_RECORD_DAYS": POSITIVE_COUNT,
    "CACHE_VERSION": COUNT,
    **dict.fromkeys(
        ("CACHE_SAFE_PLAYBACK", "BLOCK_STRUCTURED_DATA", "PLAYBACK_ACCESS_PANEL",
         "PROGRESS_TRACKING", "CLUSTER_QUEUE_REPAIR", "SYNC_ENABLED", "SYNC_UNLINK_ON_DELETE",
         "UPLOAD_ENCRYPTION", "UPLOAD_AUDIO"),
        FLAG,
    ),
    "SYNC_DEFAULT_CATEGORY_IDS": ID_LIST,
    "SYNC_DEFAULT_TAG_IDS": ID_LIST,
    "CALLBACK_RETRY_DELAYS": DELAY_LIST,
    "SYNC_UNPUBLISHED_STATUS": RECORD_STATUS,
    "SYNC_DELETED_STATUS": RECORD_STATUS,
    "SYNC_CONFLICT_POLICY": _one_of(*CONFLICT_POLICIES),
    "SYNC_CONTENT_TYPE": NAME,
    "SYNC_DEFAULT_FEATURED_IMAGE": Shape(
        "an http(s) URL of an image, or ''", lambda v: v == "" or is_http_url(v)
    ),
    "PLAY_CONTEXT_USERVALUE": _one_of(*(f"uservalue{n}" for n in range(10))),
    "PROGRESS_COMPLETION_PERCENT": Shape(
        "a number above 0 and at most 100", lambda v: _is_number(v) and 0 < v <= 100
    ),
    "PROGRESS_RETENTION_DAYS": _optional(POSITIVE_COUNT),
    "UPLOAD_EXPIRE_TIME": Shape(
        "a whole number of seconds from 1 to 21600 (Kollus's maximum)",
        lambda v: _is_int(v) and 0 < v <= 21600,
    ),
    "UPLOAD_EDITOR_OVERRIDES": Shape(
        "a list of upload fields among " + ", ".join(map(repr, OVERRIDABLE_UPLOAD_FIELDS)),
        lambda v: _is_list_of(v, lambda field: field in OVERRIDABLE_UPLOAD_FIELDS),
    ),
    "STATS_SCHEDULE_TIME": Shape('a UTC time "HH:MM", such as "02:30"', _is_hh_mm),
    "CHOOSER_TAGS": Shape('a dict of tag ids to names, such as {21: "Beginner"}', _is_tag_names),
    "Q_CLUSTER_NAME": _optional(NAME),
    "CACHE_ALIAS": Shape(
        "the alias of a cache in CACHES",
        lambda v: isinstance(v, str) and v in (getattr(settings, "CACHES", None) or {}),
    ),
}


def _described(name: str, value: Any) -> str:
    """The value as the message shows it: its type, and the value unless it is a secret."""
    if name in SECRET_SETTINGS or name in SITE_SECRET_SETTINGS:
        return type(value).__name__
    shown = repr(value)
    return f"{type(value).__name__} {shown if len(shown) <= 60 else shown[:57] + '...'}"


def _loader_errors() -> dict[str, str]:
    """Settings the plugin's own readers validate: their message, if they refuse the value."""
    from .api.paths import resolve_paths
    from .languages import locale_languages

    found = {}
    paths = kollus_settings.get("KOLLUS_API_PATHS")
    if not isinstance(paths, Mapping):
        found["KOLLUS_API_PATHS"] = (
            f"{SETTINGS_NAME}['KOLLUS_API_PATHS'] must be a dict of path names to paths, "
            f"not {_described('KOLLUS_API_PATHS', paths)}."
        )
    else:
        try:
            resolve_paths(paths)
        except ConfigurationError as exc:
            found["KOLLUS_API_PATHS"] = str(exc)
    try:
        locale_languages()
    except ImproperlyConfigured as exc:
        found["LOCALE_LANGUAGES"] = str(exc)
    return found


def shape_errors() -> list[Error]:
    """An error for every setting whose value is not of its :data:`SETTING_SHAPES` shape."""
    messages = []
    for name, shape in SETTING_SHAPES.items():
        value = kollus_settings.get(name)
        if not shape.accepts(value):
            messages.append(
                Error(
                    f"{SETTINGS_NAME}[{name!r}] must be {shape.expected}, "
                    f"not {_described(name, value)}.",
                    hint=f"The default is {DEFAULTS[name]!r}; see docs/configuration.md.",
                    id=shape.check_id,
                )
            )
    for name, message in _loader_errors().items():
        messages.append(
            Error(
                message,
                hint=f"The default is {DEFAULTS[name]!r}; see docs/configuration.md.",
                id="wagtail_kollus.E006",
            )
        )
    return messages
