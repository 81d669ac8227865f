"""Settings for the test suite. The sandbox URLs are filled in by ``tests/conftest.py``."""

import importlib.util
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
SECRET_KEY = "tests-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["*"]

INSTALLED_APPS = [
    "tests.testapp",
    "wagtail_kollus",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail.api.v2",  # the headless tests' API v2 endpoint (tests/urls.py)
    "wagtail",
    "rest_framework",
    "modelcluster",
    "taggit",
    "django_q",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
]

ROOT_URLCONF = "tests.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

# A file database (not :memory:) so that a django-q2 cluster and a live server in other
# processes/threads see the same rows. pytest-django suffixes it per xdist worker.
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": BASE_DIR / ".test-db.sqlite3",
        "TEST": {"NAME": str(BASE_DIR / f".test-db-{os.getpid()}.sqlite3")},
        # IMMEDIATE: a transaction takes the write lock at BEGIN, so a publish in the test
        # process waits for a django-q2 worker's write instead of failing with "database is
        # locked" (SQLite cannot upgrade a deferred read transaction while another writes).
        # WAL lets readers go on meanwhile. The options the docs give (wagtail_kollus.W005).
        "OPTIONS": {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL;",
        },
    }
}
# Wagtail updates its reference index in a background task. On Wagtail 7.0 (django-tasks 0.7)
# the immediate backend defers it to transaction commit, which never comes inside a test's
# transaction, so "where is this video used" would see nothing; later django-tasks ignore the key.
TASKS = {
    "default": {
        "BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
        "ENQUEUE_ON_COMMIT": False,
    }
}

if os.environ.get("DATABASE_URL", "").startswith("postgres"):
    from urllib.parse import urlparse

    _u = urlparse(os.environ["DATABASE_URL"])
    DATABASES["default"] = {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": _u.path.lstrip("/"),
        "USER": _u.username or "",
        "PASSWORD": _u.password or "",
        "HOST": _u.hostname or "",
        "PORT": _u.port or "",
    }
    # Wagtail's search index uses PostgreSQL's search fields, which Django 6.1's checks
    # (run by migrate) refuse without this app.
    INSTALLED_APPS.append("django.contrib.postgres")

# wagtail-grapple (the optional [graphql] extra, in the test extras): the GraphQL tests run
# wherever it installs (tests/test_headless_graphql.py), as a site sets it up (docs/headless.md).
if importlib.util.find_spec("grapple") is not None:
    INSTALLED_APPS += ["grapple", "graphene_django"]
    GRAPPLE = {"APPS": ["testapp"]}
    GRAPHENE = {
        "SCHEMA": "grapple.schema.schema",
        "MIDDLEWARE": [
            "grapple.middleware.GrappleMiddleware",
            "wagtail_kollus.headless.graphql.PageOfVideosMiddleware",
        ],
    }

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en"
USE_I18N = True
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / ".static"
MEDIA_URL = "/media/"
MEDIA_ROOT = BASE_DIR / ".media"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

WAGTAIL_SITE_NAME = "wagtail-kollus tests"
WAGTAILADMIN_BASE_URL = "http://testserver"

WAGTAIL_KOLLUS = {
    # Replaced with the live sandbox's URLs by tests/conftest.py.
    "CONTENTS_API_URL": "http://127.0.0.1:9/api/public/v1",
    "CONTENTS_API_KEY": "sandbox-server-key",
    "KOLLUS_API_URL": "http://127.0.0.1:9/kollus",
    "KOLLUS_ACCESS_TOKEN": "sandbox-access-token",
    "KOLLUS_SECURITY_KEY": "sandbox-security-key",
    "KOLLUS_CUSTOM_KEY": "sandbox-custom-key",
    "KOLLUS_SERVICE_ACCOUNT_KEY": "sandbox-account",
    "PLAYER_URL": "http://127.0.0.1:9/player",
    "CALLBACK_TOKEN": "test-callback-token-0123456789",
    # As a site syncing pages sets it (check W010 asks for it); the sandbox tests set their own.
    "SYNC_DEFAULT_CATEGORY_IDS": [5],
}

Q_CLUSTER = {
    "name": "wagtail_kollus_tests",
    "orm": "default",
    "workers": 1,
    "timeout": 30,
    "retry": 60,
    "max_attempts": 3,  # as docs/deployment.md recommends (check W011)
    "sync": False,
    "catch_up": False,
    "poll": 0.1,
}
