"""The test settings plus wagtail-localize, for ``nox -s localize`` (tests/test_localize.py).

A settings module of its own because wagtail-localize changes the admin (its translation
views, the page editor's menus) for every test that runs with it installed.
"""

from tests.settings import *  # noqa: F403
from tests.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "wagtail_localize", "wagtail_localize.locales"]
WAGTAIL_I18N_ENABLED = True
WAGTAIL_CONTENT_LANGUAGES = LANGUAGES = [("en", "English"), ("ko", "Korean"), ("ja", "Japanese")]
