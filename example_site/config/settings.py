"""Settings of the example site.

By default it talks to the bundled sandbox (``python -m wagtail_kollus.sandbox``), so it runs
with no Kollus account. To use real accounts, set ``KOLLUS_USE_SANDBOX=0`` and the
``WAGTAIL_KOLLUS_*`` environment variables (see docs/configuration.md).
"""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "example-site-not-secret")
DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"
ALLOWED_HOSTS = os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")

INSTALLED_APPS = [
    "videos",
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
    "wagtail.api.v2",  # /api/v2/pages/: the videos for a headless front end (docs/headless.md)
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
    "django.middleware.security.SecurityMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        # EXAMPLE_SITE_DB lets a test run the demo without touching your own demo database.
        "NAME": os.environ.get("EXAMPLE_SITE_DB", BASE_DIR / "db.sqlite3"),
        # runserver and the django-q2 worker share this file: each transaction takes the write
        # lock when it begins and waits up to 20 s for it; WAL lets pages be read meanwhile.
        # Without these, a publish fails with "database is locked" while the worker writes
        # (wagtail_kollus.W005; PostgreSQL needs none of this, see docs/deployment.md).
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL;",
        },
    }
}

if os.environ.get("REDIS_URL") is None:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "kollus_cache",
            # The rate limits keep one small key per request they let through
            # (docs/deployment.md, "The cache"): 300, the default, would be culled under load.
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["REDIS_URL"],
        }
    }

LANGUAGE_CODE = "ko"
LANGUAGES = [("ko", "한국어"), ("en", "English"), ("ja", "日本語")]
TIME_ZONE = "Asia/Seoul"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "static_collected"
MEDIA_URL = "/media/"
MEDIA_ROOT = BASE_DIR / "media"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

WAGTAIL_SITE_NAME = "wagtail-kollus example"
WAGTAILADMIN_BASE_URL = os.environ.get("WAGTAILADMIN_BASE_URL", "http://127.0.0.1:8000")

# --- wagtail-kollus -------------------------------------------------------------------------
SANDBOX_URL = os.environ.get("KOLLUS_SANDBOX_URL", "http://127.0.0.1:8765")
if os.environ.get("KOLLUS_USE_SANDBOX", "1") == "1":
    # The sandbox's documented demo keys: not secrets, they only open the local emulator.
    WAGTAIL_KOLLUS = {
        "CONTENTS_API_URL": f"{SANDBOX_URL}/api/public/v1",
        "CONTENTS_API_KEY": "sandbox-server-key",
        "KOLLUS_API_URL": f"{SANDBOX_URL}/kollus",
        "KOLLUS_ACCESS_TOKEN": "sandbox-access-token",
        "KOLLUS_SECURITY_KEY": "sandbox-security-key",
        "KOLLUS_CUSTOM_KEY": "sandbox-custom-key",
        "KOLLUS_SERVICE_ACCOUNT_KEY": "sandbox-account",
        "PLAYER_URL": f"{SANDBOX_URL}/player",
        "CALLBACK_TOKEN": os.environ.get("KOLLUS_CALLBACK_TOKEN", "demo-callback-token-0123456789"),
        # The contents API requires categories on create; pages without their own get these.
        "SYNC_DEFAULT_CATEGORY_IDS": [2],
        # Learner progress (docs/progress.md): course pages show it, players resume.
        "PROGRESS_TRACKING": True,
        # Short waits so the demo shows "synced" within a second or two of publishing.
        "SYNC_COALESCE_SECONDS": 0.5,
        # The block adds schema.org VideoObject JSON-LD after each player (docs/player.md).
        "BLOCK_STRUCTURED_DATA": True,
        # Wagtail locale → the contents API's language. ko/en/ja (and their region variants)
        # map to themselves already; a site whose locale codes differ spells them out here.
        "LOCALE_LANGUAGES": {"ko-kr": "ko", "ja-jp": "ja", "en-us": "en"},
        # The contents API names no tags: the chooser's tag filter shows these names for the
        # sandbox's tag ids (21-32).
        "CHOOSER_TAGS": {
            21: "Beginner", 22: "Intermediate", 23: "Advanced", 24: "Best seller",
            25: "New", 26: "Certificate", 27: "Hands-on", 28: "Theory",
            29: "Short course", 30: "Live session", 31: "Free preview", 32: "Staff pick",
        },
    }
else:
    # Every value comes from WAGTAIL_KOLLUS_<NAME> environment variables.
    WAGTAIL_KOLLUS = {}

Q_CLUSTER = {
    "name": "example_site",
    "workers": 2,
    "timeout": 60,
    "retry": 120,
    "max_attempts": 3,  # stop handing out a task that keeps failing (the sweep goes on)
    "orm": "default",
    "poll": 0.5,
    "catch_up": False,
}
if os.environ.get("REDIS_URL"):
    Q_CLUSTER.pop("orm")
    Q_CLUSTER["redis"] = os.environ["REDIS_URL"]
