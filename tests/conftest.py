"""Shared fixtures. The sandbox fixtures live in ``wagtail_kollus.sandbox.testing``."""

import pytest

from wagtail_kollus.sandbox.testing import sandbox, sandbox_server  # noqa: E402,F401


def ensure_wagtail_page_tree() -> None:
    """The rows Wagtail's migrations create (a locale, the root page, a welcome page, the
    default site). Transactional tests flush the database afterwards, which deletes them, so
    the next transactional test would meet an admin with no page tree."""
    from django.contrib.contenttypes.models import ContentType
    from wagtail.models import Locale, Page, Site

    Locale.objects.get_or_create(language_code="en")
    root = Page.objects.filter(depth=1).first()
    if root is None:
        page_type = ContentType.objects.get_for_model(Page)
        root = Page.add_root(instance=Page(title="Root", slug="root", content_type=page_type))
    home = Page.objects.filter(depth=2).first()
    if home is None:
        home = root.add_child(instance=Page(title="Welcome to your new Wagtail site!",
                                            slug="home"))
    if not Site.objects.exists():
        Site.objects.create(hostname="localhost", root_page=home, is_default_site=True)


@pytest.fixture(autouse=True)
def _wagtail_page_tree(request):
    if "transactional_db" in request.fixturenames or "live_server" in request.fixturenames:
        request.getfixturevalue("transactional_db")
        ensure_wagtail_page_tree()
