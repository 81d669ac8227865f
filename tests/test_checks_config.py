"""``manage.py check`` on the configurations a new user got wrong while check stayed silent:
a misspelled PLAYBACK_POLICY, a setting of the wrong type, no django-q2 (or no broker), and the
plugin's URLs not included (or included after Wagtail's catch-all).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from django.core.checks import Tags, run_checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import Client, override_settings
from django.urls import include, path
from wagtail import urls as wagtail_urls

from wagtail_kollus.checks import check_dotted_paths, check_task_queue, task_queue_messages
from wagtail_kollus.checks_settings import SETTING_SHAPES, shape_errors
from wagtail_kollus.conf import DEFAULTS, SECRET_SETTINGS

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def kollus(settings):
    """Change WAGTAIL_KOLLUS on top of the test settings."""

    def configure(**values):
        settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, **values}

    return configure


# --- E006 (and E003): every setting has a type and shape, checked in one table ----------------


def test_an_int_where_a_list_of_ids_belongs_fails_manage_py_check(kollus):
    """The user's case: every publish then failed in the worker with "'int' object is not
    iterable"; now check refuses to pass and names the setting, the type and what is expected."""
    kollus(SYNC_DEFAULT_CATEGORY_IDS=1)
    with pytest.raises(SystemCheckError) as raised:
        call_command("check", fail_level="ERROR")
    assert (
        "WAGTAIL_KOLLUS['SYNC_DEFAULT_CATEGORY_IDS'] must be a list of integer ids, such as [5] "
        "(or []), not int 1." in str(raised.value)
    )
    assert "wagtail_kollus.E006" in str(raised.value)


def test_every_setting_is_checked_by_some_check():
    """A setting added to conf.py must get a shape here (or a check of its own)."""
    from wagtail_kollus.playback.checks import _OPTION_CHECKS

    checked_elsewhere = {
        "CONTENTS_API_URL", "KOLLUS_API_URL", "PLAYER_URL",  # E002
        "DEFAULT_LANGUAGE",  # E004
        "RATE_LIMIT_CACHE",  # E020
        "PLAYBACK_POLICY", "CUID_RESOLVER",  # E005
        "LOCALE_LANGUAGES", "KOLLUS_API_PATHS",  # E006, through the plugin's own readers
    } | set(_OPTION_CHECKS)  # E030-E036
    assert set(DEFAULTS) - checked_elsewhere == set(SETTING_SHAPES)
    assert not checked_elsewhere & set(SETTING_SHAPES), "two checks for one setting"


def test_every_default_has_its_own_shape(kollus):
    kollus(**{name: DEFAULTS[name] for name in SETTING_SHAPES})
    assert shape_errors() == []


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SYNC_DEFAULT_TAG_IDS", ["3"]),
        ("CALLBACK_RETRY_DELAYS", 30),
        ("CALLBACK_RETRY_DELAYS", [30, -1]),
        ("STATS_SCHEDULE_TIME", "25:00"),
        ("STATS_SCHEDULE_TIME", "0230"),
        ("SYNC_ENABLED", "false"),
        ("MAX_RETRIES", 2.5),
        ("KOLLUS_RATE_LIMIT_PER_SECOND", -1),
        ("SYNC_CONFLICT_POLICY", "pagewins"),
        ("SYNC_UNPUBLISHED_STATUS", "draft"),
        ("PLAY_CONTEXT_USERVALUE", "uservalue10"),
        ("UPLOAD_EXPIRE_TIME", 86400),
        ("UPLOAD_EDITOR_OVERRIDES", "title"),
        ("PROGRESS_COMPLETION_PERCENT", 150),
        ("PROGRESS_RETENTION_DAYS", 0),
        ("CHOOSER_TAGS", ["Beginner", "Advanced"]),
        ("SYNC_DEFAULT_FEATURED_IMAGE", "/static/poster.png"),
        ("CACHE_ALIAS", "no-such-cache"),
        ("Q_CLUSTER_NAME", ""),
    ],
)
def test_a_value_of_the_wrong_shape_is_an_error_naming_setting_type_and_expectation(
    kollus, name, value
):
    kollus(**{name: value})
    (error,) = shape_errors()
    assert error.id == "wagtail_kollus.E006"
    expected = SETTING_SHAPES[name].expected
    assert error.msg == (
        f"WAGTAIL_KOLLUS[{name!r}] must be {expected}, not {type(value).__name__} {value!r}."
    )
    assert repr(DEFAULTS[name]) in error.hint


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CHOOSER_TAGS", {21: "Beginner", "22": "Advanced"}),
        ("CHOOSER_TAGS", [(21, "Beginner")]),
        ("STATS_SCHEDULE_TIME", "2:30"),  # what stats/tasks.py parses
        ("PROGRESS_RETENTION_DAYS", 365),
        ("CALLBACK_RETRY_DELAYS", (30, 0.5)),
        ("SYNC_DEFAULT_FEATURED_IMAGE", "https://cdn.example.com/poster.png"),
        ("Q_CLUSTER_NAME", "videos"),
        ("READ_TIMEOUT", 20),
    ],
)
def test_values_the_plugin_reads_correctly_pass(kollus, name, value):
    kollus(**{name: value})
    assert shape_errors() == []


def test_positive_numbers_keep_their_id_and_now_say_what_they_got(kollus):
    kollus(READ_TIMEOUT="10", SYNC_RETRY_HORIZON=0)
    errors = shape_errors()
    assert {e.id for e in errors} == {"wagtail_kollus.E003"}
    assert {e.msg for e in errors} == {
        "WAGTAIL_KOLLUS['READ_TIMEOUT'] must be a positive number, not str '10'.",
        "WAGTAIL_KOLLUS['SYNC_RETRY_HORIZON'] must be a positive number, not int 0.",
    }


def test_a_secret_of_the_wrong_type_is_named_without_its_value(kollus):
    kollus(KOLLUS_SECURITY_KEY=12345678901234, CALLBACK_TOKEN=["s3cr3t-callback-token"])
    messages = {e.msg for e in shape_errors()}
    assert messages == {
        "WAGTAIL_KOLLUS['KOLLUS_SECURITY_KEY'] must be a string, not int.",
        "WAGTAIL_KOLLUS['CALLBACK_TOKEN'] must be a string, not list.",
    }
    assert {"KOLLUS_SECURITY_KEY", "CALLBACK_TOKEN"} <= set(SECRET_SETTINGS)


def test_settings_with_readers_of_their_own_report_those_readers_words(kollus):
    kollus(LOCALE_LANGUAGES={"en": "fr"}, KOLLUS_API_PATHS={"media_remove": "/x"})
    messages = sorted(e.msg for e in shape_errors())
    assert messages[0].startswith("WAGTAIL_KOLLUS['KOLLUS_API_PATHS'] names an unknown path")
    assert messages[1] == (
        "WAGTAIL_KOLLUS['LOCALE_LANGUAGES']['en'] is 'fr': the contents API serves ko, en, ja "
        "(or None for no language)."
    )
    kollus(LOCALE_LANGUAGES={}, KOLLUS_API_PATHS="/api")
    (error,) = shape_errors()
    assert error.msg == (
        "WAGTAIL_KOLLUS['KOLLUS_API_PATHS'] must be a dict of path names to paths, not str '/api'."
    )


# --- E005: PLAYBACK_POLICY and CUID_RESOLVER are loaded as playback loads them -----------------


class NoDecision:
    """A policy class someone forgot to finish."""


def test_a_misspelled_playback_policy_fails_check(kollus):
    """The user's case: every player became the placeholder and only a log line said why."""
    kollus(PLAYBACK_POLICY="tests.test_checks_config.NoDecisionn")
    with pytest.raises(SystemCheckError) as raised:
        call_command("check", fail_level="ERROR")
    text = str(raised.value)
    assert "wagtail_kollus.E005" in text
    assert (
        "WAGTAIL_KOLLUS['PLAYBACK_POLICY'] = 'tests.test_checks_config.NoDecisionn' cannot be "
        "imported: Module \"tests.test_checks_config\" does not define a \"NoDecisionn\" "
        "attribute/class" in text
    )


@pytest.mark.parametrize(
    ("path", "says"),
    [
        ("myshop.playback.PurchasedCoursePolicyy", "cannot be imported: No module named 'myshop'"),
        ("tests.test_checks_config.NoDecision", "has no decide() method."),
        ("tests.test_checks_config", "cannot be loaded: TypeError: 'module' object is not callable"),
    ],
)
def test_a_policy_that_cannot_be_used_is_an_error(kollus, path, says):
    kollus(PLAYBACK_POLICY=path)
    (error,) = check_dotted_paths()
    assert error.id == "wagtail_kollus.E005"
    assert error.msg == f"WAGTAIL_KOLLUS['PLAYBACK_POLICY'] = {path!r} {says}"
    assert "decide()" in error.hint


def test_a_cuid_resolver_that_cannot_be_used_is_an_error(kollus):
    kollus(CUID_RESOLVER="wagtail_kollus.playback.default_cuidd")
    (error,) = check_dotted_paths()
    assert error.msg.startswith(
        "WAGTAIL_KOLLUS['CUID_RESOLVER'] = 'wagtail_kollus.playback.default_cuidd' cannot be "
        "imported:"
    )
    kollus(CUID_RESOLVER="wagtail_kollus.playback")
    (error,) = check_dotted_paths()
    assert error.msg == (
        "WAGTAIL_KOLLUS['CUID_RESOLVER'] = 'wagtail_kollus.playback' is not callable."
    )


def test_the_default_and_documented_dotted_paths_pass(kollus):
    assert check_dotted_paths() == []
    kollus(
        CUID_RESOLVER="wagtail_kollus.player.default_cuid",  # the old name, still documented
        PLAYBACK_POLICY="wagtail_kollus.playback.policy.PagePrivacyPolicy",
    )
    assert check_dotted_paths() == []
    kollus(CUID_RESOLVER=lambda request: "viewer")  # a callable is used as it is
    assert check_dotted_paths() == []


# --- E007 / E008 / W007: django-q2 installed, with a broker that can work ----------------------


def test_django_q_missing_from_installed_apps_fails_manage_py_check(tmp_path):  # E007
    """Run as the user ran it: ``manage.py check`` in its own process (changing
    INSTALLED_APPS inside this one would rebuild the app registry under the other tests)."""
    (tmp_path / "without_django_q.py").write_text(
        "from tests.settings import *  # noqa\n"
        "INSTALLED_APPS = [app for app in INSTALLED_APPS if app != 'django_q']\n"
    )
    check = subprocess.run(
        [sys.executable, "-m", "django", "check", "--settings=without_django_q"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert check.returncode == 1, check.stderr
    assert (
        "(wagtail_kollus.E007) 'django_q' is not in INSTALLED_APPS: page sync, Kollus callbacks, "
        "the library import and the schedules are django-q2 tasks, and cannot be queued."
    ) in check.stderr
    assert 'HINT: Add "django_q" to INSTALLED_APPS' in check.stderr


def test_no_broker_without_the_redis_package_is_an_error(settings, monkeypatch):
    """django-q2 falls back to Redis: "No module named 'redis'" on every enqueue."""
    monkeypatch.setitem(sys.modules, "redis", None)  # the package is not installed
    del settings.Q_CLUSTER
    (error,) = check_task_queue()
    assert error.id == "wagtail_kollus.E008"
    assert error.msg == (
        "Q_CLUSTER is not set, so django-q2 uses Redis, and the redis package is not installed: "
        "every page sync and callback fails to be queued."
    )
    assert '"orm": "default"' in error.hint
    settings.Q_CLUSTER = {"name": "site", "workers": 2, "redis": {"host": "cache"}}
    assert [m.id for m in check_task_queue()] == ["wagtail_kollus.E008"]
    settings.Q_CLUSTER = {"name": "site", "orm": "default"}
    assert check_task_queue() == []


def test_no_broker_with_redis_installed_warns_that_it_needs_a_local_server():
    (warning,) = task_queue_messages({"name": "site", "workers": 2}, None, redis_installed=True)
    assert warning.id == "wagtail_kollus.W007"
    assert "localhost:6379" in warning.msg
    with_redis = {"name": "s", "redis": "redis://cache:6379/0"}
    assert task_queue_messages(with_redis, None, redis_installed=True) == []
    # The brokers django-q2 picks before Redis (an empty sqs dict too: boto3's defaults).
    for broker in ({"orm": "default"}, {"sqs": {}}, {"broker_class": "my.Broker"}, {"mongo": {}}):
        expected = [] if broker != {"mongo": {}} else ["wagtail_kollus.E008"]
        found = task_queue_messages({"name": "s", **broker}, None, redis_installed=False)
        assert [m.id for m in found] == expected


def test_the_named_cluster_of_q_cluster_name_is_the_one_checked():
    q_cluster = {"name": "site", "orm": "default", "ALT_CLUSTERS": {"videos": {"orm": None}}}
    assert task_queue_messages(q_cluster, None, redis_installed=False) == []
    (error,) = task_queue_messages(q_cluster, "videos", redis_installed=False)
    assert error.id == "wagtail_kollus.E008"


# --- W008 / W009: the plugin's URLs are in the URLconf, before Wagtail's catch-all ------------


def urlconf(*patterns):
    """A URLconf module (Django takes a module as well as its dotted path)."""
    module = ModuleType("site_urls")
    module.urlpatterns = list(patterns)
    return module


KOLLUS = path("kollus/", include("wagtail_kollus.urls"))
WAGTAIL = path("", include(wagtail_urls))


def test_the_test_site_with_its_include_passes_the_url_checks():
    assert [m for m in run_checks(tags=[Tags.urls]) if m.id.startswith("wagtail_kollus")] == []


def test_a_urlconf_without_the_include_warns(settings):
    settings.ROOT_URLCONF = urlconf(WAGTAIL)
    (warning,) = [m for m in run_checks(tags=[Tags.urls]) if m.id.startswith("wagtail_kollus")]
    assert warning.id == "wagtail_kollus.W008"
    assert 'Forbidden (CSRF cookie not set.)' in warning.msg
    assert 'path("kollus/", include("wagtail_kollus.urls"))' in warning.hint


def test_the_include_after_wagtails_catch_all_warns(settings):
    settings.ROOT_URLCONF = urlconf(WAGTAIL, KOLLUS)
    (warning,) = [m for m in run_checks(tags=[Tags.urls]) if m.id.startswith("wagtail_kollus")]
    assert warning.id == "wagtail_kollus.W009"
    assert warning.msg.startswith("/kollus/callbacks/upload/token/ is served by wagtail_serve")
    settings.ROOT_URLCONF = urlconf(KOLLUS, WAGTAIL)
    assert not [m for m in run_checks(tags=[Tags.urls]) if m.id.startswith("wagtail_kollus")]


def test_the_include_under_another_prefix_or_namespace_passes(settings):
    settings.ROOT_URLCONF = urlconf(
        path("video/hooks/", include("wagtail_kollus.urls", namespace="kollus")), WAGTAIL
    )
    assert not [m for m in run_checks(tags=[Tags.urls]) if m.id.startswith("wagtail_kollus")]


@pytest.mark.django_db
def test_a_callback_to_a_url_the_plugin_does_not_serve_is_the_403_the_docs_describe(
    settings, caplog
):
    """docs/troubleshooting.md: a 403 logged "Forbidden (CSRF cookie not set.)" means the
    callback never reached wagtail-kollus (here: ``callback/`` for ``callbacks/``)."""
    kollus_client = Client(enforce_csrf_checks=True)  # as Kollus posts: no cookie, no token
    token = settings.WAGTAIL_KOLLUS["CALLBACK_TOKEN"]
    form = {"content_provider_key": settings.WAGTAIL_KOLLUS["KOLLUS_SERVICE_ACCOUNT_KEY"]}
    with caplog.at_level(logging.WARNING, logger="django.security.csrf"):
        wrong = kollus_client.post(f"/kollus/callback/upload/{token}/", form)
    assert wrong.status_code == 403
    assert "Forbidden (CSRF cookie not set.)" in caplog.text
    caplog.clear()
    right = kollus_client.post(f"/kollus/callbacks/upload/{token}/", form)
    assert right.status_code == 400  # the plugin's own answer: the fields are missing
    assert b"missing field(s)" in right.content and "CSRF" not in caplog.text


@override_settings(WAGTAIL_KOLLUS={})
def test_a_fresh_project_without_settings_gets_warnings_not_errors(monkeypatch):
    for name in list(os.environ):
        if name.startswith("WAGTAIL_KOLLUS_"):
            monkeypatch.delenv(name)
    levels = {m.id for m in run_checks() if m.id.startswith("wagtail_kollus") and m.is_serious()}
    assert levels == set()


class PolicyReadingTheDatabase:
    """A policy that reads a table as it starts: before ``migrate`` the table is not there."""

    def __init__(self):
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM table_created_by_a_later_migration")

    def decide(self, viewer, page, media_content_key):
        raise NotImplementedError


@pytest.mark.django_db
def test_a_policy_that_needs_tables_migrate_has_not_made_does_not_stop_migrate(kollus):
    """``migrate`` runs the checks first: an error there would make the tables unreachable."""
    kollus(PLAYBACK_POLICY="tests.test_checks_config.PolicyReadingTheDatabase")
    assert check_dotted_paths() == []
