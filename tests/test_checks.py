import pytest
from django.core.management import call_command

from wagtail_kollus.checks import check_settings


def ids(messages):
    return {m.id for m in messages}


def test_configured_settings_pass(settings):
    assert not [m for m in check_settings() if m.id != "wagtail_kollus.W003"]


def test_missing_keys_warn_with_hint(settings, monkeypatch):
    for name in ("CONTENTS_API_KEY", "KOLLUS_ACCESS_TOKEN"):
        monkeypatch.delenv(f"WAGTAIL_KOLLUS_{name}", raising=False)
    settings.WAGTAIL_KOLLUS = {}
    messages = check_settings()
    assert "wagtail_kollus.W001" in ids(messages)
    assert all(m.hint for m in messages)


def test_malformed_url_is_an_error(settings):
    settings.WAGTAIL_KOLLUS = {"CONTENTS_API_URL": "shop.example.com/api"}
    assert "wagtail_kollus.E002" in ids(check_settings())


def test_not_a_dict_is_an_error(settings):
    settings.WAGTAIL_KOLLUS = "nope"
    assert ids(check_settings()) == {"wagtail_kollus.E001"}


def test_bad_number_and_language(settings):
    settings.WAGTAIL_KOLLUS = {"READ_TIMEOUT": "10", "DEFAULT_LANGUAGE": "fr"}
    assert {"wagtail_kollus.E003", "wagtail_kollus.E004"} <= ids(check_settings())


def test_unknown_key_and_short_callback_token_warn(settings):
    settings.WAGTAIL_KOLLUS = {"CONTENTS_API_UR": "x", "CALLBACK_TOKEN": "short"}
    assert {"wagtail_kollus.W002", "wagtail_kollus.W004"} <= ids(check_settings())


# Django 6.1's `check` runs the database checks by default (JSONField support and so on).
@pytest.mark.django_db
def test_manage_py_check_passes_on_the_test_settings():
    call_command("check", fail_level="ERROR")


# --- W005: SQLite shared by the web process and the django-q2 cluster -------------------------

from wagtail_kollus.checks import (  # noqa: E402
    SQLITE_OPTIONS,
    check_sqlite_shared_with_the_cluster,
    sqlite_cluster_warnings,
)

SQLITE_FILE = {"ENGINE": "django.db.backends.sqlite3", "NAME": "/srv/site/db.sqlite3"}


def sqlite_warnings(database: dict, **q_cluster) -> list:
    q_cluster = {"name": "site", "orm": "default", **q_cluster}
    found = sqlite_cluster_warnings({"default": database}, q_cluster)
    assert all(m.id == "wagtail_kollus.W005" for m in found)
    return found


def test_orm_broker_on_a_sqlite_file_without_the_options_warns_with_the_snippet():
    (warning,) = sqlite_warnings({**SQLITE_FILE, "OPTIONS": {"timeout": 20}})
    assert "database is locked" in warning.msg
    assert '"transaction_mode": "IMMEDIATE"' in warning.msg and "WAL" in warning.msg
    assert "timeout" not in warning.msg.split("without", 1)[1].split(":")[0]  # it has one
    # The hint is the exact snippet: applied as it says, the warning goes away.
    snippet = warning.hint.split("= ", 1)[1].split(" (Django", 1)[0]
    options = eval(snippet)  # noqa: S307 (our own hint, a dict literal)
    assert options == SQLITE_OPTIONS
    assert not sqlite_warnings({**SQLITE_FILE, "OPTIONS": options})


def test_each_missing_sqlite_option_is_named():
    for missing, named in (
        ("transaction_mode", "transaction_mode"),
        ("timeout", "timeout"),
        ("init_command", "WAL"),
    ):
        options = {k: v for k, v in SQLITE_OPTIONS.items() if k != missing}
        (warning,) = sqlite_warnings({**SQLITE_FILE, "OPTIONS": options})
        assert named in warning.msg.split("without", 1)[1], (missing, warning.msg)
    # Spelled differently, still WAL; another pragma alone is not.
    relaxed = {**SQLITE_OPTIONS, "init_command": "PRAGMA synchronous=NORMAL; pragma JOURNAL_MODE = 'wal'"}
    assert not sqlite_warnings({**SQLITE_FILE, "OPTIONS": relaxed})
    other = {**SQLITE_OPTIONS, "init_command": "PRAGMA synchronous=NORMAL;"}
    assert sqlite_warnings({**SQLITE_FILE, "OPTIONS": other})


def test_no_sqlite_warning_where_nothing_shares_the_file(settings):
    bare = {**SQLITE_FILE, "OPTIONS": {}}
    assert sqlite_warnings(bare)  # the baseline warns ...
    # ... PostgreSQL, an in-memory database, tasks run in the web process, another broker:
    postgres = {"ENGINE": "django.db.backends.postgresql", "NAME": "site"}
    assert not sqlite_warnings(postgres)
    assert not sqlite_warnings({**bare, "NAME": ":memory:"})
    assert not sqlite_warnings(bare, sync=True)
    assert not sqlite_cluster_warnings({"default": bare}, {"name": "site", "redis": "redis://"})
    # The registered check reads the real settings: the test suite's file database has them.
    settings.Q_CLUSTER = {"name": "site", "orm": "default"}
    assert check_sqlite_shared_with_the_cluster() == sqlite_cluster_warnings(
        settings.DATABASES, settings.Q_CLUSTER
    )


def test_example_site_settings_pass_the_sqlite_check():
    """The demo's database is the one that answered 500s; its settings carry the options."""
    from pathlib import Path

    source = (Path(__file__).resolve().parent.parent / "example_site/config/settings.py").read_text()
    namespace: dict = {"__file__": "example_site/config/settings.py"}
    exec(compile(source, "example_site/config/settings.py", "exec"), namespace)  # noqa: S102
    assert not sqlite_warnings(namespace["DATABASES"]["default"])


# --- W006: an import slice that the cluster's task timeout would kill --------------------------

from wagtail_kollus.checks import (  # noqa: E402
    check_import_slice_fits_the_task_timeout,
    import_slice_warnings,
)


def test_an_import_slice_that_can_outlast_the_task_timeout_warns_with_the_numbers():
    (warning,) = import_slice_warnings({"timeout": 20}, 10, 15)
    assert warning.id == "wagtail_kollus.W006"
    assert "(10)" in warning.msg and "15" in warning.msg and "(20 s)" in warning.msg
    assert "below 5" in warning.hint


def test_an_import_slice_with_room_for_one_call_or_no_timeout_does_not_warn():
    assert import_slice_warnings({"timeout": 30}, 10, 15) == []
    assert import_slice_warnings({"retry": 60}, 600, 15) == []  # no timeout: never killed
    assert import_slice_warnings({"timeout": 5, "sync": True}, 10, 15) == []  # in-process
    assert import_slice_warnings(None, 10, 15) == []
    assert import_slice_warnings({"timeout": 5}, "ten", 15) == []  # E003's to report


def test_the_cluster_the_plugin_queues_on_is_the_one_whose_timeout_counts():
    q_cluster = {"timeout": 60, "ALT_CLUSTERS": {"kollus": {"timeout": 12}}}
    assert import_slice_warnings(q_cluster, 10, 15) == []
    (warning,) = import_slice_warnings(q_cluster, 10, 15, "kollus")
    assert "Q_CLUSTER['ALT_CLUSTERS']['kollus']" in warning.msg


def test_the_registered_check_reads_the_settings(settings):
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "timeout": 8}
    assert [m.id for m in check_import_slice_fits_the_task_timeout()] == ["wagtail_kollus.W006"]
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "timeout": 300}
    assert check_import_slice_fits_the_task_timeout() == []


# --- W011: a cluster that hands a failing task out again for ever -----------------------------

from wagtail_kollus.checks import (  # noqa: E402
    check_task_attempts_are_limited,
    task_attempts_warnings,
)


def test_a_redelivering_cluster_without_max_attempts_warns():
    (warning,) = task_attempts_warnings({"name": "site", "orm": "default"})
    assert warning.id == "wagtail_kollus.W011"
    assert warning.msg.startswith("Q_CLUSTER['max_attempts'] is not set: ")
    assert "for ever" in warning.msg
    assert '"max_attempts": 3' in warning.hint and "sweep" in warning.hint
    (warning,) = task_attempts_warnings({"orm": "default", "max_attempts": 0})
    assert warning.msg.startswith("Q_CLUSTER['max_attempts'] is 0: ")
    for broker in ({"sqs": {}}, {"mongo": {"host": "db"}}, {"iron_mq": {"token": "t"}}):
        assert [m.id for m in task_attempts_warnings(broker)] == ["wagtail_kollus.W011"]


def test_a_limited_or_non_redelivering_cluster_does_not_warn():
    assert task_attempts_warnings({"orm": "default", "max_attempts": 3}) == []
    assert task_attempts_warnings({"orm": "default", "ack_failures": True}) == []
    assert task_attempts_warnings({"orm": "default", "sync": True}) == []  # in-process
    assert task_attempts_warnings({"redis": "redis://cache:6379/0"}) == []  # never redelivers
    assert task_attempts_warnings(None) == []  # E008/W007's to report
    assert task_attempts_warnings({"name": "site"}) == []  # no broker: E008/W007 again


def test_the_cluster_the_plugin_queues_on_is_the_one_whose_max_attempts_counts():
    q_cluster = {
        "orm": "default",
        "max_attempts": 3,
        "ALT_CLUSTERS": {"kollus": {"max_attempts": 0}, "other": {"timeout": 10}},
    }
    assert task_attempts_warnings(q_cluster) == []
    assert task_attempts_warnings(q_cluster, "other") == []  # inherits the main setting
    (warning,) = task_attempts_warnings(q_cluster, "kollus")
    assert warning.msg.startswith("Q_CLUSTER['ALT_CLUSTERS']['kollus']['max_attempts'] is 0")


def test_the_registered_check_reads_the_settings_and_the_test_settings_pass_it(settings):
    assert check_task_attempts_are_limited() == []
    settings.Q_CLUSTER = {k: v for k, v in settings.Q_CLUSTER.items() if k != "max_attempts"}
    assert [m.id for m in check_task_attempts_are_limited()] == ["wagtail_kollus.W011"]


# --- W012 (check --deploy): PostgreSQL that connects anew for every request and task ---------

from django.core.checks import registry as check_registry  # noqa: E402

from wagtail_kollus.checks import (  # noqa: E402
    check_persistent_connections,
    short_lived_connection_warnings,
)

POSTGRES = {"ENGINE": "django.db.backends.postgresql", "NAME": "site"}


def test_postgres_with_django_s_default_conn_max_age_warns_and_names_the_setting():
    (warning,) = short_lived_connection_warnings({"default": POSTGRES}, {"orm": "default"})
    assert warning.id == "wagtail_kollus.W012"
    assert "DATABASES['default']" in warning.msg and "CONN_MAX_AGE 0" in warning.msg
    assert "'CONN_MAX_AGE'] = 60" in warning.hint


@pytest.mark.parametrize(
    "database",
    [
        {**POSTGRES, "CONN_MAX_AGE": 60},
        {**POSTGRES, "CONN_MAX_AGE": None},  # unlimited
        {**POSTGRES, "OPTIONS": {"pool": True}},  # psycopg's pool, which needs CONN_MAX_AGE 0
        {**POSTGRES, "DISABLE_SERVER_SIDE_CURSORS": True},  # PgBouncer, as Django's docs say
        SQLITE_FILE,
    ],
    ids=["persistent", "unlimited", "pool", "pgbouncer", "sqlite"],
)
def test_persistent_or_pooled_connections_or_another_database_are_silent(database):
    assert short_lived_connection_warnings({"default": database}, {"orm": "default"}) == []


def test_the_cluster_s_own_database_alias_is_checked_too():
    databases = {"default": {**POSTGRES, "CONN_MAX_AGE": 60}, "queue": POSTGRES}
    (warning,) = short_lived_connection_warnings(databases, {"orm": "queue"})
    assert "DATABASES['queue']" in warning.msg
    assert short_lived_connection_warnings(databases, {"redis": {}}) == []


def test_only_check_deploy_runs_it():
    # A laptop's PostgreSQL without persistent connections is fine: no warning on every
    # runserver, only in the production checklist's `manage.py check --deploy`.
    assert check_persistent_connections not in check_registry.registry.get_checks(False)
    assert check_persistent_connections in check_registry.registry.get_checks(True)
