"""System checks: a missing or malformed ``WAGTAIL_KOLLUS`` setting is reported by
``manage.py check`` with an id and a hint, instead of as a traceback at the first request.

Missing values are warnings (a site may use only part of the plugin, and a fresh project must
still pass ``check``); values that can never work (malformed URLs, wrong types) are errors.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlparse

from django.apps import apps
from django.conf import settings
from django.core.cache import InvalidCacheBackendError, caches
from django.core.cache.backends.db import DatabaseCache
from django.core.cache.backends.dummy import DummyCache
from django.core.checks import Error, Tags, Warning, register
from django.template import TemplateDoesNotExist
from django.template.loader import get_template

from .conf import DEFAULTS, SETTINGS_NAME, kollus_settings

_URL_SETTINGS = ("CONTENTS_API_URL", "KOLLUS_API_URL", "PLAYER_URL")
_NUMBER_SETTINGS = (
    "CONNECT_TIMEOUT",
    "READ_TIMEOUT",
    "BACKOFF_FACTOR",
    "BACKOFF_MAX",
    "PLAYER_TOKEN_LIFETIME",
    "CHOOSER_CACHE_TIMEOUT",
    "CALLBACK_CLAIM_SECONDS",
)
_REQUIRED_FOR = {
    "CONTENTS_API_URL": "the chooser and page sync",
    "CONTENTS_API_KEY": "the chooser and page sync",
    "KOLLUS_ACCESS_TOKEN": "uploads, the video library and statistics",
    "KOLLUS_SECURITY_KEY": "signed playback",
    "KOLLUS_CUSTOM_KEY": "signed playback",
    "KOLLUS_SERVICE_ACCOUNT_KEY": "verifying Kollus callbacks",
}


def _is_http_url(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    parsed = urlparse(value)
    return parsed.scheme in ("http", "https") and bool(parsed.netloc)


@register(Tags.compatibility)
def check_settings(app_configs: Any = None, **kwargs: Any) -> list:
    messages: list = []
    raw = getattr(settings, SETTINGS_NAME, None)
    if raw is not None and not isinstance(raw, dict):
        return [
            Error(
                f"{SETTINGS_NAME} must be a dict.",
                hint=f"Set {SETTINGS_NAME} = {{'CONTENTS_API_URL': ..., ...}} in your settings.",
                id="wagtail_kollus.E001",
            )
        ]
    for name in (raw or {}):
        if name not in DEFAULTS:
            messages.append(
                Warning(
                    f"{SETTINGS_NAME}[{name!r}] is not a known setting and is ignored.",
                    hint="See docs/configuration.md for the list of settings (check the spelling).",
                    id="wagtail_kollus.W002",
                )
            )
    for name, purpose in _REQUIRED_FOR.items():
        if not kollus_settings.get(name):
            messages.append(
                Warning(
                    f"{SETTINGS_NAME}[{name!r}] is not set; {purpose} will not work.",
                    hint=f"Set it in {SETTINGS_NAME} or in the environment variable "
                    f"WAGTAIL_KOLLUS_{name}.",
                    id="wagtail_kollus.W001",
                )
            )
    for name in _URL_SETTINGS:
        value = kollus_settings.get(name)
        if value and not _is_http_url(value):
            messages.append(
                Error(
                    f"{SETTINGS_NAME}[{name!r}] is not an http(s) URL.",
                    hint="Use a full URL such as 'https://example.com/api/public/v1' "
                    "(scheme and host, no trailing query string).",
                    id="wagtail_kollus.E002",
                )
            )
    for name in _NUMBER_SETTINGS:
        value = kollus_settings.get(name)
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            messages.append(
                Error(
                    f"{SETTINGS_NAME}[{name!r}] must be a positive number.",
                    hint=f"The default is {DEFAULTS[name]!r}.",
                    id="wagtail_kollus.E003",
                )
            )
    language = kollus_settings.get("DEFAULT_LANGUAGE")
    if language not in ("ko", "en", "ja"):
        messages.append(
            Error(
                f"{SETTINGS_NAME}['DEFAULT_LANGUAGE'] must be 'ko', 'en' or 'ja'.",
                hint="These are the languages the contents API accepts.",
                id="wagtail_kollus.E004",
            )
        )
    if not kollus_settings.get("CALLBACK_TOKEN"):
        messages.append(
            Warning(
                f"{SETTINGS_NAME}['CALLBACK_TOKEN'] is not set: Kollus callbacks are refused.",
                hint="Kollus callbacks carry no signature. Set a long random CALLBACK_TOKEN; it "
                "becomes part of the callback URLs you paste into the Kollus console.",
                id="wagtail_kollus.W003",
            )
        )
    elif len(str(kollus_settings.CALLBACK_TOKEN)) < 16:
        messages.append(
            Warning(
                f"{SETTINGS_NAME}['CALLBACK_TOKEN'] is shorter than 16 characters.",
                hint="Use a long random value, e.g. python -c 'import secrets; "
                "print(secrets.token_urlsafe(32))'.",
                id="wagtail_kollus.W004",
            )
        )
    return messages


# What Django (>= 5.1) offers so that a web process and a django-q2 worker can share one SQLite
# file: a transaction takes the write lock when it begins (IMMEDIATE), so a writer that finds
# it taken waits up to ``timeout`` seconds instead of failing at once with "database is
# locked" (SQLite cannot upgrade a deferred reader while another process writes, and does not
# wait then); WAL lets readers go on while one process writes. docs/deployment.md shows it.
SQLITE_OPTIONS: dict[str, Any] = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": "PRAGMA journal_mode=WAL;",
}
_WAL_PRAGMA = re.compile(r"journal_mode\s*=\s*['\"]?wal\b", re.IGNORECASE)


def _sqlite_shortcomings(database: dict) -> list[str]:
    """What ``database`` (a ``DATABASES`` entry) lacks of :data:`SQLITE_OPTIONS`."""
    options = database.get("OPTIONS") or {}
    missing = []
    if str(options.get("transaction_mode") or "").upper() not in ("IMMEDIATE", "EXCLUSIVE"):
        missing.append('"transaction_mode": "IMMEDIATE"')
    if not isinstance(options.get("timeout"), int | float) or options["timeout"] <= 0:
        missing.append('a busy "timeout" (seconds)')
    if not _WAL_PRAGMA.search(str(options.get("init_command") or "")):
        missing.append("WAL (\"init_command\": \"PRAGMA journal_mode=WAL;\")")
    return missing


def _is_shared_sqlite_file(database: dict) -> bool:
    if "sqlite3" not in str(database.get("ENGINE", "")):
        return False
    name = str(database.get("NAME", ""))
    # An in-memory database is never shared with another process.
    return name != ":memory:" and "mode=memory" not in name


@register(Tags.compatibility)
def check_sqlite_shared_with_the_cluster(app_configs: Any = None, **kwargs: Any) -> list:
    """Warn when django-q2's ORM broker runs on a SQLite file without :data:`SQLITE_OPTIONS`.

    The broker's queue, the plugin's rows and Wagtail's publish then share one file between
    the web process and the worker: without them, a publish answers 500 "database is locked"
    whenever the worker writes at the same moment.
    """
    if not apps.is_installed("django_q"):
        return []
    return sqlite_cluster_warnings(settings.DATABASES, getattr(settings, "Q_CLUSTER", None))


def sqlite_cluster_warnings(databases: dict, q_cluster: Any) -> list:
    """The check above, for the given ``DATABASES`` and ``Q_CLUSTER`` values."""
    if not isinstance(q_cluster, dict):
        return []
    alias = q_cluster.get("orm")
    if not alias or q_cluster.get("sync"):  # another broker, or tasks run in the web process
        return []
    database = databases.get(alias) or {}
    if not _is_shared_sqlite_file(database):
        return []
    missing = _sqlite_shortcomings(database)
    if not missing:
        return []
    options = ", ".join(f"{key!r}: {value!r}" for key, value in SQLITE_OPTIONS.items())
    return [
        Warning(
            f"DATABASES[{alias!r}] is a SQLite file shared by the web process and the django-q2 "
            f"cluster (Q_CLUSTER['orm']), without {', '.join(missing)}: publishing a page can "
            "fail with 'database is locked' while the cluster writes.",
            hint=f"Set DATABASES[{alias!r}]['OPTIONS'] = {{{options}}} (Django 5.1 or later), "
            "or use PostgreSQL (docs/deployment.md).",
            id="wagtail_kollus.W005",
        )
    ]


@register(Tags.compatibility)
def check_import_slice_fits_the_task_timeout(app_configs: Any = None, **kwargs: Any) -> list:
    """Warn when an import task's slice may outlast the cluster's task ``timeout``.

    The admin's library import works in tasks of ``IMPORT_TASK_SECONDS`` each, which stop at
    the first video after that time: a slice can last that plus one Kollus call. django-q2 kills
    a task that runs past its cluster's ``timeout``, so the slice would be cut in the middle of
    a video and run again, every time.
    """
    if not apps.is_installed("django_q"):
        return []
    return import_slice_warnings(
        getattr(settings, "Q_CLUSTER", None),
        kollus_settings.get("IMPORT_TASK_SECONDS"),
        kollus_settings.get("READ_TIMEOUT"),
        kollus_settings.get("Q_CLUSTER_NAME"),
    )


def import_slice_warnings(
    q_cluster: Any, slice_seconds: Any, read_timeout: Any, cluster_name: str | None = None
) -> list:
    """The check above, for the given ``Q_CLUSTER`` and settings' values."""
    if not isinstance(q_cluster, dict) or q_cluster.get("sync"):
        return []
    conf = dict(q_cluster)
    if cluster_name:  # django-q2's ALT_CLUSTERS override the main settings per cluster
        conf.update((q_cluster.get("ALT_CLUSTERS") or {}).get(cluster_name) or {})
    try:
        timeout = float(conf.get("timeout") or 0)
        slice_seconds, read_timeout = float(slice_seconds), float(read_timeout)
    except (TypeError, ValueError):  # E003 reports a setting that is not a number
        return []
    if timeout <= 0 or slice_seconds + read_timeout < timeout:  # no timeout: django-q2 never kills a task
        return []
    where = f"Q_CLUSTER['ALT_CLUSTERS'][{cluster_name!r}]" if cluster_name else "Q_CLUSTER"
    return [
        Warning(
            f"{SETTINGS_NAME}['IMPORT_TASK_SECONDS'] ({slice_seconds:g}) plus one Kollus call "
            f"(READ_TIMEOUT, {read_timeout:g}) is not below the task timeout of {where} "
            f"({timeout:g} s): django-q2 would kill a library import's task in the middle of "
            "a video, and run it again.",
            hint=f"Lower IMPORT_TASK_SECONDS below {max(timeout - read_timeout, 1):g}, or raise "
            "the cluster's timeout (docs/media.md, 'Importing your Kollus library').",
            id="wagtail_kollus.W006",
        )
    ]


# --- playback: the limits' cache and the templates playback no longer renders -----------------

# Templates the player's markup came from before it was built in Python (playback/markup.py).
# A project file with one of these names used to replace the markup; now it would be ignored.
REMOVED_PLAYER_TEMPLATES = (
    "wagtail_kollus/blocks/kollus_video.html",
    "wagtail_kollus/player/render_time.html",
    "wagtail_kollus/player/cache_safe.html",
    "wagtail_kollus/player/iframe.html",
)


# A database cache smaller than this culls the limits' keys on a busy site (docs/deployment.md).
MIN_RATE_LIMIT_CACHE_ENTRIES = 10_000


@register(Tags.caches)
def check_rate_limit_cache(app_configs: Any = None, **kwargs: Any) -> list:
    """The limits count in ``RATE_LIMIT_CACHE``: it must exist and be able to count."""
    alias = kollus_settings.get("RATE_LIMIT_CACHE")
    try:
        cache = caches[alias]
    except (InvalidCacheBackendError, TypeError):
        return [
            Error(
                f"{SETTINGS_NAME}['RATE_LIMIT_CACHE'] = {alias!r} is not a cache in CACHES.",
                hint="Name an alias of settings.CACHES (a cache shared by every process).",
                id="wagtail_kollus.E020",
            )
        ]
    limits = (
        "PLAYER_TOKEN_RATE_LIMIT",
        "PLAYER_TOKEN_RATE_LIMIT_PER_IP",
        "KOLLUS_RATE_LIMIT_PER_SECOND",
        "KOLLUS_RATE_LIMIT_PER_MINUTE",
        "CONTENTS_RATE_LIMIT_PER_SECOND",
        "CONTENTS_RATE_LIMIT_PER_MINUTE",
    )
    if not any(kollus_settings.get(name) for name in limits):
        return []
    if isinstance(cache, DummyCache):
        return [
            Error(
                f"{SETTINGS_NAME}['RATE_LIMIT_CACHE'] = {alias!r} is a DummyCache, which stores "
                "nothing: the player token limits and Kollus's API limit would not hold.",
                hint="Point RATE_LIMIT_CACHE at a cache shared by every process (Redis, "
                "Memcached or the database cache), or set those limits to 0.",
                id="wagtail_kollus.E021",
            )
        ]
    if isinstance(cache, DatabaseCache) and cache._max_entries < MIN_RATE_LIMIT_CACHE_ENTRIES:
        # Every request a limit lets through is one key for its window. Past MAX_ENTRIES the
        # database cache deletes a third of all keys, slots of the current window included,
        # and those slots can then be claimed again.
        return [
            Warning(
                f"{SETTINGS_NAME}['RATE_LIMIT_CACHE'] = {alias!r} is a database cache that keeps "
                f"at most {cache._max_entries} keys: under load it deletes the limits' keys and "
                "lets extra requests through.",
                hint=f"Give it \"OPTIONS\": {{\"MAX_ENTRIES\": 100_000}} (at least "
                f"{MIN_RATE_LIMIT_CACHE_ENTRIES}), or use Redis or Memcached.",
                id="wagtail_kollus.W021",
            )
        ]
    return []


@register(Tags.templates)
def check_removed_player_templates(app_configs: Any = None, **kwargs: Any) -> list:
    """A project that overrode the player's old templates is told they are no longer used."""
    found = []
    for name in REMOVED_PLAYER_TEMPLATES:
        try:
            get_template(name)
        except TemplateDoesNotExist:
            continue
        found.append(name)
    if not found:
        return []
    return [
        Warning(
            f"wagtail-kollus no longer renders {', '.join(found)}: your project's copy is ignored.",
            hint="The player's default markup is built in Python. For your own markup, pass "
            "template=… to KollusVideoBlock (or set its Meta.template) or to {% kollus_player %}; "
            "see docs/extending.md, 'Templates'.",
            id="wagtail_kollus.W020",
        )
    ]
