"""Wagtail locales → contents API languages: the rule, the chooser's default, and sync per
translation with Wagtail's core i18n (what wagtail-localize builds on). Remote calls go over
HTTP to the sandbox; the push runs in this process (queuing is test_sync_cluster.py's job)."""

from __future__ import annotations

import re
from urllib.parse import parse_qs

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from django.urls import reverse
from wagtail.models import Locale

from tests.chooser_support import CHOOSE, list_queries, modal
from tests.factories import make_course
from tests.sync_support import (
    SYNC_TEST_SETTINGS,
    configure,
    publish_and_push,
    record_of,
)
from tests.testapp.models import CoursePage
from wagtail_kollus.accounts import contents_client
from wagtail_kollus.languages import default_language, locale_language, page_language

pytestmark = pytest.mark.django_db

I18N = override_settings(
    WAGTAIL_I18N_ENABLED=True,
    WAGTAIL_CONTENT_LANGUAGES=[("en", "English"), ("ko", "Korean"), ("ja", "Japanese")],
)


# --- the rule ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("locale_code", "expected"),
    [("ko", "ko"), ("en", "en"), ("ja", "ja"), ("en-gb", "en"), ("ja_JP", "ja"), ("fr", None)],
)
def test_default_mapping_is_the_identity_with_region_variants(locale_code, expected):
    assert locale_language(locale_code) == expected


def test_a_site_mapping_is_merged_over_the_default(settings):
    configure(settings, LOCALE_LANGUAGES={"en-US": "ko", "zh-hant": "en", "ja": None})
    assert locale_language("en-us") == "ko"  # exact code first
    assert locale_language("en-gb") == "en"  # then the base language, still the default
    assert locale_language("zh-Hant") == "en"
    assert locale_language("ja") is None  # explicitly unmapped


@pytest.mark.parametrize(
    ("value", "message"),
    [({"en": "fr"}, "['en'] is 'fr'"), (["en"], "must be a dict")],
)
def test_a_bad_mapping_is_a_clear_configuration_error(settings, value, message):
    configure(settings, LOCALE_LANGUAGES=value)
    with pytest.raises(ImproperlyConfigured, match=re.escape(message)):
        locale_language("en")


def test_unmapped_locales_fall_back_to_the_default_language(settings):
    configure(settings, DEFAULT_LANGUAGE="ja")
    assert default_language() == "ja"
    fr = Locale.objects.create(language_code="fr")
    assert page_language(CoursePage(title="x", locale=fr)) == "ja"


# --- the chooser ------------------------------------------------------------------------------
@pytest.fixture
def empty_cache():
    from django.core.cache import caches

    caches["default"].clear()  # the chooser caches API answers
    yield
    caches["default"].clear()


@pytest.mark.usefixtures("empty_cache")
def test_chooser_follows_the_site_mapping_of_the_edited_pages_locale(
    admin_client, sandbox, settings
):
    from wagtail.models import Page

    configure(settings, LOCALE_LANGUAGES={"en": "ja"})
    home = Page.objects.get(depth=2)  # in the default locale "en"
    referer = f"http://testserver/admin/pages/{home.pk}/edit/"
    data = modal(admin_client.get(reverse(CHOOSE), HTTP_REFERER=referer))
    assert list_queries(sandbox)[-1]["language"] == ["ja"]
    assert '<option value="ja" selected>' in data["html"]
    # An editor URL that names its locale (snippets, listings) counts too.
    snippets = "http://testserver/admin/snippets/testapp/thing/?locale=ko"
    modal(admin_client.get(reverse(CHOOSE), HTTP_REFERER=snippets))
    assert list_queries(sandbox)[-1]["language"] == ["ko"]


# --- sync per translation ---------------------------------------------------------------------
@pytest.fixture
def synced(sandbox, settings):
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, **SYNC_TEST_SETTINGS}
    with I18N:
        yield sandbox


def translate(page: CoursePage, language_code: str) -> CoursePage:
    locale, _ = Locale.objects.get_or_create(language_code=language_code)
    translation = page.copy_for_translation(locale, copy_parents=True)
    return CoursePage.objects.get(pk=translation.pk)


def queries(sandbox, endpoint: str) -> list[dict[str, list[str]]]:
    return [parse_qs(e["query"]) for e in sandbox.requests if e["endpoint"] == endpoint]


def test_each_translation_gets_its_own_record_in_its_language(
    synced, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    english, en_link = publish_and_push(make_course("Python basics"), capture)
    japanese, ja_link = publish_and_push(
        translate(english, "ja"), capture, title="パイソン入門", intro="<p>学ぶ</p>"
    )

    assert ja_link.pk != en_link.pk and ja_link.content_id != en_link.content_id
    en_record, ja_record = record_of(synced, en_link), record_of(synced, ja_link)
    assert (en_record["language"], set(en_record["translations"])) == ("en", {"en"})
    assert (ja_record["language"], set(ja_record["translations"])) == ("ja", {"ja"})
    assert ja_record["translations"]["ja"]["title"] == "パイソン入門"
    assert en_record["translations"]["en"]["title"] == "Python basics"
    # Each is listed under its own language, where the chooser looks for it.
    client = contents_client()
    listed = {
        lang: {c.content_id for c in client.list_contents(language=lang, limit=100).items}
        for lang in ("ja", "en")
    }
    assert ja_link.content_id in listed["ja"] and ja_link.content_id not in listed["en"]
    assert en_link.content_id in listed["en"] and en_link.content_id not in listed["ja"]

    # An edit of the translation updates its record only, read in its language first.
    synced._app.requests.clear()
    japanese, ja_link = publish_and_push(japanese, capture, title="パイソン入門 第2版")
    assert [e["endpoint"] for e in synced.requests] == ["contents.get", "contents.update"]
    assert queries(synced, "contents.get")[0]["language"] == ["ja"]
    assert record_of(synced, ja_link)["translations"]["ja"]["title"] == "パイソン入門 第2版"
    assert record_of(synced, en_link)["translations"]["en"]["title"] == "Python basics"
    assert set(record_of(synced, ja_link)["translations"]) == {"ja"}


def test_a_lost_create_of_a_translation_is_found_in_its_language(
    synced, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    english, en_link = publish_and_push(make_course("Python basics"), capture)
    japanese = translate(english, "ja")  # same title: only the language tells the records apart
    synced._app.requests.clear()
    synced.faults.set("contents.create", commit_then_timeout=4, times=1)
    japanese, ja_link = publish_and_push(japanese, capture)

    assert ja_link.state == "synced"
    assert queries(synced, "contents.list")[0]["language"] == ["ja"]
    ours = [c for c in synced.state.contents.values() if c["extra"].get("external_id")]
    assert sorted(c["content_id"] for c in ours) == sorted([en_link.content_id, ja_link.content_id])
    assert record_of(synced, ja_link)["language"] == "ja"
    assert ja_link.log.filter(operation="adopt").exists()


def test_a_site_mapping_decides_the_language_of_new_records(
    synced, settings, django_capture_on_commit_callbacks
):
    # A Korean site that left LANGUAGE_CODE at Wagtail's "en" maps its locale to ko.
    configure(settings, LOCALE_LANGUAGES={"en": "ko"})
    _page, link = publish_and_push(make_course("파이썬 기초"), django_capture_on_commit_callbacks)
    record = record_of(synced, link)
    assert record["language"] == "ko"
    assert link.pushed_values["language"] == "ko"
