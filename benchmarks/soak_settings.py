"""Settings of the soak run: the example site's own (``make demo``'s and the README's), with
timings shortened so that a few minutes of chaos also settle in minutes.

Nothing here makes the product more forgiving than a real site: the database options, the
broker, the cache and every retry rule are the example site's. Only durations shrink, and
Kollus's own 1 call/s limit is raised because the sandbox does not enforce it and 500 callbacks
at 1 call/s would take 9 minutes to drain (the limiter has its own tests and benchmark).
"""

import os
from urllib.parse import urlparse

from config.settings import *  # noqa: F403 (the example site's settings, unchanged)
from config.settings import DATABASES, Q_CLUSTER, WAGTAIL_KOLLUS

if os.environ.get("DATABASE_URL", "").startswith("postgres"):
    _url = urlparse(os.environ["DATABASE_URL"])
    DATABASES["default"] = {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": _url.path.lstrip("/"),
        "USER": _url.username or "",
        "PASSWORD": _url.password or "",
        "HOST": _url.hostname or "",
        "PORT": _url.port or "",
    }
    # Wagtail's search index on PostgreSQL needs it (a system check from Django 6.1 on).
    INSTALLED_APPS = [*INSTALLED_APPS, "django.contrib.postgres"]  # noqa: F405

# A task whose worker was killed is handed out again after `retry` seconds (django-q2's ORM
# broker); leases must outlive `timeout` and expire before `retry`, as docs/deployment.md says.
Q_CLUSTER = {**Q_CLUSTER, "workers": 2, "timeout": 20, "retry": 30}

WAGTAIL_KOLLUS = {
    **WAGTAIL_KOLLUS,
    "SYNC_CLAIM_SECONDS": 25.0,
    "CALLBACK_CLAIM_SECONDS": 25.0,
    "CALLBACK_RETRY_DELAYS": [2, 5, 10, 20, 30],
    "SYNC_RETRY_BACKOFF": 2.0,
    "SYNC_RETRY_BACKOFF_MAX": 10.0,
    "KOLLUS_RATE_LIMIT_PER_SECOND": 20,
    "KOLLUS_RATE_LIMIT_PER_MINUTE": 1200,
}
