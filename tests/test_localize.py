"""Sync with wagtail-localize: a page translated through its workflow (translation source,
string translations, publish) gets its own record in its language, and a re-sync of the
translation updates that record only.

Runs under ``nox -s localize`` (settings ``tests.settings_localize``); skipped elsewhere, where
wagtail-localize is not installed. Remote calls go over HTTP to the sandbox.
"""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings

pytest.importorskip("wagtail_localize")
if "wagtail_localize" not in django_settings.INSTALLED_APPS:
    pytest.skip("needs tests.settings_localize (nox -s localize)", allow_module_level=True)

from wagtail.models import Locale  # noqa: E402
from wagtail_localize.models import (  # noqa: E402
    StringSegment,
    StringTranslation,
    TranslationSource,
)

from tests.factories import make_course  # noqa: E402
from tests.sync_support import (  # noqa: E402
    publish_and_push,
    push,
    record_of,
)
from tests.testapp.models import CoursePage  # noqa: E402
from wagtail_kollus.models import KollusVideo  # noqa: E402

pytestmark = pytest.mark.django_db


def translate_title(
    source: TranslationSource, locale: Locale, text: str, path: str = "^title$"
) -> None:
    """What a translator does in wagtail-localize's editor for one field."""
    segment = StringSegment.objects.get(source=source, context__path__regex=path)
    StringTranslation.objects.update_or_create(
        translation_of=segment.string,
        locale=locale,
        context=segment.context,
        defaults={"data": text, "translation_type": StringTranslation.TRANSLATION_TYPE_MANUAL},
    )


def publish_translation(source: TranslationSource, locale: Locale, capture) -> CoursePage:
    with capture(execute=True):
        translation, _created = source.create_or_update_translation(
            locale, publish=True, copy_parent_pages=True, fallback=True
        )
    return CoursePage.objects.get(pk=translation.pk)


def test_a_wagtail_localize_translation_syncs_to_its_own_record(
    synced, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    video = KollusVideo.objects.create(title="Lesson 1", media_content_key="mck-localize-1")
    body = [
        {"type": "heading", "value": "Getting started"},
        {"type": "video", "value": {"video": video.pk, "title_override": "Welcome"}},
        {"type": "video", "value": {"video": video.pk}},  # no override: nothing to translate
    ]
    english, en_link = publish_and_push(make_course("Python basics", body=body), capture)
    japanese_locale, _ = Locale.objects.get_or_create(language_code="ja")

    source, _created = TranslationSource.get_or_create_from_instance(english)
    translate_title(source, japanese_locale, "パイソン入門")
    translate_title(source, japanese_locale, "ようこそ", path=r"^body\..*title_override$")
    japanese = publish_translation(source, japanese_locale, capture)
    assert (japanese.locale.language_code, japanese.live) == ("ja", True)
    # The block's title override is translated; the video and its options are kept.
    videos = [block.value for block in japanese.body if block.block_type == "video"]
    assert [v["title_override"] or "" for v in videos] == ["ようこそ", ""]
    assert {v["video"].pk for v in videos} == {video.pk}
    ja_link = push(japanese, capture)

    assert ja_link.content_id not in (None, en_link.content_id)
    assert record_of(synced, ja_link)["language"] == "ja"
    assert record_of(synced, ja_link)["translations"]["ja"]["title"] == "パイソン入門"
    assert record_of(synced, en_link)["language"] == "en"
    assert record_of(synced, en_link)["translations"]["en"]["title"] == "Python basics"

    # The translator revises the title: wagtail-localize republishes the translation, and
    # only the Japanese record changes.
    translate_title(source, japanese_locale, "パイソン入門 第2版")
    japanese = publish_translation(source, japanese_locale, capture)
    ja_link = push(japanese, capture)
    assert record_of(synced, ja_link)["translations"]["ja"]["title"] == "パイソン入門 第2版"
    assert record_of(synced, en_link)["translations"]["en"]["title"] == "Python basics"
    assert len({en_link.content_id, ja_link.content_id}) == 2
