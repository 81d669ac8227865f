"""Opening the chooser never waits for Kollus: its upload tab's categories come from the local
mirror (``media.categories``), which the library's own screens and saved videos keep filled."""

from __future__ import annotations

import pytest
from django.core.cache import caches
from django.urls import reverse

from wagtail_kollus.models import KollusMedia, KollusMediaCategory
from wagtail_kollus.sandbox.config import DEFAULT_CATEGORY_KEY

pytestmark = pytest.mark.django_db

CHOOSE = "kollus_video_chooser:choose"


@pytest.fixture
def kollus(sandbox, settings):
    settings.WAGTAIL_KOLLUS = sandbox.kollus_settings(
        KOLLUS_RATE_LIMIT_PER_SECOND=100, KOLLUS_RATE_LIMIT_PER_MINUTE=6000
    )
    caches["default"].clear()
    yield sandbox
    caches["default"].clear()


@pytest.mark.parametrize("timeout", [60, 0])
def test_a_cold_open_of_the_chooser_makes_no_kollus_call(kollus, admin_client, settings, timeout):
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "CHOOSER_CACHE_TIMEOUT": timeout}
    KollusMediaCategory.objects.create(category_key=DEFAULT_CATEGORY_KEY, name="Sandbox")

    response = admin_client.get(reverse(CHOOSE))

    assert response.status_code == 200
    html = response.json()["html"]
    assert 'id="kollus_upload_category_key"' in html  # the upload tab, with its categories
    assert f'value="{DEFAULT_CATEGORY_KEY}"' in html
    assert kollus.request_count("kollus.*") == 0


def test_the_library_upload_page_reads_kollus_categories_into_the_mirror(kollus, admin_client):
    page = admin_client.get(reverse("kollus_media:add")).content.decode()

    assert kollus.request_count("kollus.categories") == 1
    assert 'value="sandbox-category-lectures"' in page
    mirrored = dict(KollusMediaCategory.objects.values_list("category_key", "name"))
    assert mirrored == {DEFAULT_CATEGORY_KEY: "Sandbox", "sandbox-category-lectures": "Lectures"}

    # Read again only once CATEGORIES_MAX_AGE has passed; the chooser then offers them too.
    admin_client.get(reverse("kollus_media:add"))
    chooser = admin_client.get(reverse(CHOOSE)).json()["html"]
    assert kollus.request_count("kollus.categories") == 1
    assert 'value="sandbox-category-lectures"' in chooser


def test_kollus_down_leaves_the_library_upload_page_with_what_the_mirror_knows(
    kollus, admin_client
):
    KollusMediaCategory.objects.create(category_key="kept", name="Kept category")
    kollus.faults.set("kollus.categories", status=503)

    page = admin_client.get(reverse("kollus_media:add"))

    assert page.status_code == 200
    assert 'value="kept"' in page.content.decode()


def test_a_saved_video_adds_its_category_and_kollus_renames_it(kollus):
    media = KollusMedia.objects.create(title="Clip", category_key="cat-9", category_name="Old name")
    assert KollusMediaCategory.objects.get(category_key="cat-9").name == "Old name"

    media.category_name = "New name"
    media.save()
    media.save(update_fields=["title"])  # no category change: the mirror is not asked

    assert KollusMediaCategory.objects.get(category_key="cat-9").name == "New name"
    assert KollusMediaCategory.objects.count() == 1


def test_a_category_kollus_dropped_stays_while_a_video_names_it(kollus):
    from wagtail_kollus.media.categories import refresh_categories

    KollusMedia.objects.create(title="Clip", category_key="still-used", category_name="Used")
    KollusMediaCategory.objects.create(category_key="unused", name="Unused")

    refresh_categories()

    keys = set(KollusMediaCategory.objects.values_list("category_key", flat=True))
    assert keys == {DEFAULT_CATEGORY_KEY, "sandbox-category-lectures", "still-used"}
    assert KollusMediaCategory.objects.get(category_key="still-used").listed_at is None
