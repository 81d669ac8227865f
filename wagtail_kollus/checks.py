"""System checks: a missing or malformed ``WAGTAIL_KOLLUS`` setting is reported by
``manage.py check`` with an id and a hint, instead of as a traceback at the first request.

Missing values are warnings (a site may use only part of the plugin, and a fresh project must
still pass ``check``); values that can never work (malformed URLs, wrong types) are errors.
Besides the settings themselves: the code they name (``PLAYBACK_POLICY``, ``CUID_RESOLVER``),
django-q2 and its broker, and the plugin's URLs in the site's URLconf, each of which fails
quietly at run time (a placeholder, a task never queued, a callback answered 403).

The type and shape of every setting (``E006``) is the table of :mod:`.checks_settings`;
``check_settings`` reports what it finds.
"""

from __future__ import annotations

import importlib
import re
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.cache import InvalidCacheBackendError, caches
from django.core.cache.backends.db import DatabaseCache
from django.core.cache.backends.dummy import DummyCache
from django.core.checks import Error, Tags, Warning, register
from django.db import DatabaseError
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.urls import NoReverseMatch, Resolver404, resolve, reverse

from .api.errors import ConfigurationError
from .checks_settings import SETTING_SHAPES as SETTING_SHAPES  # it lived here: re-exported
from .checks_settings import is_http_url, shape_errors
from .conf import DEFAULTS, SETTINGS_NAME, kollus_settings

_URL_SETTINGS = ("CONTENTS_API_URL", "KOLLUS_API_URL", "PLAYER_URL")
_REQUIRED_FOR = {
    "CONTENTS_API_URL": "the chooser and page sync",
    "CONTENTS_API_KEY": "the chooser and page sync",
    "KOLLUS_ACCESS_TOKEN": "uploads, the video library and statistics",
    "KOLLUS_SECURITY_KEY": "signed playback",
    "KOLLUS_CUSTOM_KEY": "signed playback",
    "KOLLUS_SERVICE_ACCOUNT_KEY": "verifying Kollus callbacks",
}


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
        if value and not is_http_url(value):
            messages.append(
                Error(
                    f"{SETTINGS_NAME}[{name!r}] is not an http(s) URL.",
                    hint="Use a full URL such as 'https://example.com/api/public/v1' "
                    "(scheme and host, no trailing query string).",
                    id="wagtail_kollus.E002",
                )
            )
    messages += shape_errors()
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


@register(Tags.compatibility, deploy=True)
def check_persistent_connections(app_configs: Any = None, **kwargs: Any) -> list:
    """``check --deploy``: warn when PostgreSQL connects anew for every request and task.

    With Django's default ``CONN_MAX_AGE`` of 0, every django-q2 task (a page sync push, a
    callback) opens a connection, and PostgreSQL forks a backend for it whose caches start
    cold: measured by ``make bench ONLY=scale_sync``, that costs as much CPU as the push and
    halves bulk sync on two cores. Only a deployment check: on a laptop it does not matter.
    """
    return short_lived_connection_warnings(
        settings.DATABASES,
        cluster_conf(getattr(settings, "Q_CLUSTER", None), kollus_settings.get("Q_CLUSTER_NAME")),
    )


def short_lived_connection_warnings(databases: dict, q_cluster: dict) -> list:
    """The check above, for the given ``DATABASES`` and cluster settings."""
    aliases = dict.fromkeys(["default", q_cluster.get("orm") or "default"])
    messages = []
    for alias in aliases:
        database = databases.get(alias) or {}
        # Django's default is 0; None keeps a connection for ever.
        if (
            "postgresql" not in str(database.get("ENGINE", ""))
            or database.get("CONN_MAX_AGE", 0) != 0
        ):
            continue
        # Silent where connections are pooled elsewhere: psycopg's pool (Django 5.1+, which
        # requires CONN_MAX_AGE 0), or PgBouncer in transaction mode, for which Django's docs
        # have DISABLE_SERVER_SIDE_CURSORS set.
        if (database.get("OPTIONS") or {}).get("pool") or database.get(
            "DISABLE_SERVER_SIDE_CURSORS"
        ):
            continue
        messages.append(
            Warning(
                f"DATABASES[{alias!r}] is PostgreSQL with CONN_MAX_AGE 0: every request and "
                "every django-q2 task (each page sync push) opens a new database connection.",
                hint=f"Set DATABASES[{alias!r}]['CONN_MAX_AGE'] = 60 and "
                "'CONN_HEALTH_CHECKS' = True, or pool the connections: OPTIONS 'pool' (psycopg[pool]), "
                "or PgBouncer with DISABLE_SERVER_SIDE_CURSORS = True (docs/deployment.md). "
                "Persistent connections measured 1.5-2 times the page syncs per second.",
                id="wagtail_kollus.W012",
            )
        )
    return messages


def cluster_conf(q_cluster: Any, cluster_name: str | None) -> dict:
    """The settings of the django-q2 cluster the plugin queues on: ``Q_CLUSTER``, with the
    ``ALT_CLUSTERS`` entry ``Q_CLUSTER_NAME`` names over it (as django-q2 reads them for a
    ``qcluster`` started with that name); ``{}`` when ``Q_CLUSTER`` is not a dict."""
    if not isinstance(q_cluster, dict):
        return {}
    conf = dict(q_cluster)
    if cluster_name:
        conf.update((q_cluster.get("ALT_CLUSTERS") or {}).get(cluster_name) or {})
    return conf


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
    conf = cluster_conf(q_cluster, cluster_name)
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


# --- settings that name code: PLAYBACK_POLICY and CUID_RESOLVER --------------------------------


def _policy_problem() -> str | None:
    from .playback.policy import playback_policy

    try:
        playback_policy()  # the loader playback uses: import, instantiate, look for decide()
    except ConfigurationError as exc:
        return str(exc)
    except DatabaseError:  # a policy that reads the database as it starts, before migrate
        return None
    except Exception as exc:  # the class itself failed (its __init__, its module's imports)
        return (
            f"{SETTINGS_NAME}['PLAYBACK_POLICY'] = {kollus_settings.PLAYBACK_POLICY!r} cannot be "
            f"loaded: {type(exc).__name__}: {exc}"
        )
    return None


def _cuid_resolver_problem() -> str | None:
    from .playback.claims import _import_resolver

    resolver = kollus_settings.CUID_RESOLVER
    if not resolver or callable(resolver):  # empty: the default; a callable is used as it is
        return None
    if not isinstance(resolver, str):
        return (
            f"{SETTINGS_NAME}['CUID_RESOLVER'] must be a dotted path or a callable, "
            f"not {type(resolver).__name__}."
        )
    try:
        function = _import_resolver(resolver)  # the loader resolve_cuid uses
    except ConfigurationError as exc:
        return str(exc)
    except Exception as exc:
        return (
            f"{SETTINGS_NAME}['CUID_RESOLVER'] = {resolver!r} cannot be imported: "
            f"{type(exc).__name__}: {exc}"
        )
    if not callable(function):
        return f"{SETTINGS_NAME}['CUID_RESOLVER'] = {resolver!r} is not callable."
    return None


@register(Tags.compatibility)
def check_dotted_paths(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """Load the code ``PLAYBACK_POLICY`` and ``CUID_RESOLVER`` name, as playback will.

    Playback never fails a page: a policy it cannot load turns every player into the
    placeholder "This video is not available right now.", and only a log line says why.
    """
    problems = {"PLAYBACK_POLICY": _policy_problem(), "CUID_RESOLVER": _cuid_resolver_problem()}
    return [
        Error(
            problem,
            hint=f"Name an importable {what} (the default is {DEFAULTS[name]!r}); see "
            "docs/selling-courses.md and docs/player.md.",
            id="wagtail_kollus.E005",
        )
        for (name, problem), what in zip(
            problems.items(), ("class with a decide() method", "function of the request"),
            strict=True,
        )
        if problem
    ]


# --- django-q2: the plugin's background work needs it installed and given a broker -------------



def _names_a_broker_other_than_redis(conf: dict) -> bool:
    """What ``django_q.brokers.get_broker`` tests, in its order, before it falls back to Redis."""
    return bool(
        conf.get("broker_class")
        or conf.get("iron_mq")
        or isinstance(conf.get("sqs"), dict)
        or conf.get("orm")
        or conf.get("mongo")
    )


def _redis_is_installed() -> bool:
    try:
        importlib.import_module("redis")
    except ImportError:
        return False
    return True


@register(Tags.compatibility)
def check_task_queue(app_configs: Any = None, **kwargs: Any) -> list:
    """django-q2 must be installed, and its ``Q_CLUSTER`` must name a broker that can work.

    Page sync, callbacks, the library import and the schedules are django-q2 tasks. Without
    the app its tables do not exist ("no such table: django_q_schedule"); a ``Q_CLUSTER`` that
    names no broker makes django-q2 fall back to Redis, and every enqueue fails when the
    redis package is missing ("No module named 'redis'"): pages never sync.
    """
    return task_queue_messages(
        getattr(settings, "Q_CLUSTER", None),
        kollus_settings.get("Q_CLUSTER_NAME"),
        django_q_installed=apps.is_installed("django_q"),
        redis_installed=_redis_is_installed(),
    )


def task_queue_messages(
    q_cluster: Any,
    cluster_name: str | None,
    *,
    django_q_installed: bool = True,
    redis_installed: bool = True,
) -> list:
    """The check above, for the given ``Q_CLUSTER``, cluster name and installed packages."""
    if not django_q_installed:
        return [
            Error(
                "'django_q' is not in INSTALLED_APPS: page sync, Kollus callbacks, the library "
                "import and the schedules are django-q2 tasks, and cannot be queued.",
                hint="Add \"django_q\" to INSTALLED_APPS, run manage.py migrate and set "
                "Q_CLUSTER (docs/getting-started.md).",
                id="wagtail_kollus.E007",
            )
        ]
    conf = cluster_conf(q_cluster, cluster_name)
    if _names_a_broker_other_than_redis(conf):
        return []
    where = "Q_CLUSTER is not set" if not isinstance(q_cluster, dict) else "Q_CLUSTER names no broker"
    example = '{"name": "mysite", "orm": "default", "timeout": 60, "retry": 180, "max_attempts": 3}'
    if not redis_installed:
        return [
            Error(
                f"{where}, so django-q2 uses Redis, and the redis package is not installed: "
                "every page sync and callback fails to be queued.",
                hint=f"Use the database as the broker: Q_CLUSTER = {example} "
                "(docs/deployment.md), or pip install redis and set Q_CLUSTER['redis'].",
                id="wagtail_kollus.E008",
            )
        ]
    if conf.get("redis") or conf.get("django_redis"):
        return []
    return [
        Warning(
            f"{where}, so django-q2 uses a Redis server on localhost:6379: page sync and "
            "callbacks are queued only if one runs there.",
            hint=f"Name the broker: Q_CLUSTER = {example}, or Q_CLUSTER['redis'] = your Redis "
            "URL (docs/deployment.md).",
            id="wagtail_kollus.W007",
        )
    ]


@register(Tags.compatibility)
def check_task_attempts_are_limited(app_configs: Any = None, **kwargs: Any) -> list:
    """Warn when the cluster hands a failing task out again for ever (``max_attempts`` 0).

    django-q2 acknowledges a task that fails (raises, or runs past ``timeout``) only with
    ``ack_failures``; otherwise a broker that redelivers (the ORM's, SQS, IronMQ, MongoDB)
    hands it out again every ``retry`` seconds, and with the default ``max_attempts`` (0) it
    never stops: a task that always fails keeps a worker busy and repeats its calls to the APIs
    for ever. The plugin loses nothing by a limit: its sweep queues its own outstanding work
    again (docs/deployment.md).
    """
    if not apps.is_installed("django_q"):
        return []
    return task_attempts_warnings(
        getattr(settings, "Q_CLUSTER", None), kollus_settings.get("Q_CLUSTER_NAME")
    )


def task_attempts_warnings(q_cluster: Any, cluster_name: str | None = None) -> list:
    """The check above, for the given ``Q_CLUSTER`` and cluster name."""
    # No Q_CLUSTER is E008/W007's to report; a sync cluster runs tasks in the web process; the
    # Redis broker never hands a task out twice (its queue is a list, popped); and a cluster
    # that acknowledges failures does not hand a failed task out again.
    conf = cluster_conf(q_cluster, cluster_name)
    if not conf or conf.get("sync"):
        return []
    if not _names_a_broker_other_than_redis(conf) or conf.get("ack_failures"):
        return []
    attempts = conf.get("max_attempts")
    if isinstance(attempts, int) and not isinstance(attempts, bool) and attempts > 0:
        return []
    where = f"Q_CLUSTER['ALT_CLUSTERS'][{cluster_name!r}]" if cluster_name else "Q_CLUSTER"
    value = "not set" if attempts is None else f"{attempts!r}"
    return [
        Warning(
            f"{where}['max_attempts'] is {value}: django-q2 hands a task that fails (raises, or "
            "runs past its timeout) out again every 'retry' seconds, for ever.",
            hint="Set \"max_attempts\": 3 in the cluster's settings (docs/deployment.md). "
            "Nothing of the plugin's is lost when django-q2 gives up on a task: its sweep "
            "(manage.py kollus_sweep --install-schedule) queues unfinished page syncs and "
            "callback deliveries again.",
            id="wagtail_kollus.W011",
        )
    ]


# --- the public URLs: Kollus's callbacks and the cache-safe player's token endpoint ------------

# Named URLs of wagtail_kollus.urls; one of each family is enough to find the include.
PUBLIC_URL_NAMES = {
    "wagtail_kollus:callback-upload": {"token": "token"},
    "wagtail_kollus:callback-play": {"token": "token"},
    "wagtail_kollus:player_token": {},
}


@register(Tags.urls)
def check_public_urls_are_included(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    """Warn when ``wagtail_kollus.urls`` is not included in the site's URLconf.

    Kollus would post its callbacks into Wagtail's page serving, which answers them 403
    "Forbidden (CSRF cookie not set.)", and cache-safe players could not fetch their URL.
    """
    if not getattr(settings, "ROOT_URLCONF", None):
        return []
    missing, shadowed = [], {}
    for name, url_kwargs in PUBLIC_URL_NAMES.items():
        try:
            path = reverse(name, kwargs=url_kwargs)
        except NoReverseMatch:
            missing.append(name)
            continue
        try:
            match = resolve(path)
        except Resolver404:
            shadowed[path] = None
            continue
        # Under any instance namespace (include(..., namespace=...)), the app's own URL name.
        if f"{match.app_name}:{match.url_name}" != name:  # an earlier pattern took the path
            shadowed[path] = match.view_name
    if missing:
        return [
            Warning(
                f"The URLs of wagtail-kollus are not in the site's URLconf (cannot reverse "
                f"{', '.join(missing)}): Kollus's callbacks would be answered 403 \"Forbidden "
                "(CSRF cookie not set.)\" and cache-safe players could not load.",
                hint='Add path("kollus/", include("wagtail_kollus.urls")) to ROOT_URLCONF\'s '
                "urlpatterns, before Wagtail's catch-all include(wagtail_urls).",
                id="wagtail_kollus.W008",
            )
        ]
    if shadowed:
        path, served_by = next(iter(shadowed.items()))
        return [
            Warning(
                f"{path} is served by {served_by or 'no view'}, not by wagtail-kollus: an "
                "earlier URL pattern takes the plugin's URLs, so Kollus's callbacks would not "
                "reach it.",
                hint='Move path("kollus/", include("wagtail_kollus.urls")) above '
                "include(wagtail_urls) (Wagtail's pages catch every path after them).",
                id="wagtail_kollus.W009",
            )
        ]
    return []
