"""Contents client parts that need no server: records, the mckey convention, form flattening."""

from datetime import UTC, datetime

import pytest

from wagtail_kollus.accounts import contents_client
from wagtail_kollus.api.contents import ContentsClient, flatten_form, resolve_kollus_key
from wagtail_kollus.api.errors import ConfigurationError
from wagtail_kollus.api.types import ChapterItem, Content, Pagination


def item(**kw):
    return ChapterItem.from_api(kw)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"media_url": "https://v.kr.kollus.com/abcDEF12"}, "abcDEF12"),
        ({"media_url": "https://v.jp.kollus.com/abcDEF12/?autoplay=1"}, "abcDEF12"),
        ({"media_url": "abcDEF12", "media_source_type": "kollus"}, "abcDEF12"),
        ({"media_url": "abcDEF12", "media_source_type": "upload"}, None),
        ({"media_url": "https://youtube.com/watch?v=x"}, None),
        ({"media_url": "https://v.kr.kollus.com/s?jwt=x&custom_key=y"}, None),
        ({"media_url": "https://v.kr.kollus.com/poster/abc.jpg"}, None),
        ({"media_url": "https://evil-kollus.com.example.org/abc"}, None),
        ({}, None),
    ],
)
def test_resolve_kollus_key(data, expected):
    assert resolve_kollus_key(item(**data)) == expected
    assert resolve_kollus_key(data) == expected
    assert item(**data).kollus_media_content_key == expected


def test_configured_player_host_counts(settings):
    settings.WAGTAIL_KOLLUS = {
        **settings.WAGTAIL_KOLLUS,
        "PLAYER_URL": "http://127.0.0.1:8765/player",
    }
    assert resolve_kollus_key(item(media_url="http://127.0.0.1:8765/player/k123")) == "k123"
    assert resolve_kollus_key(item(media_url="http://127.0.0.1:8765/other/k123")) is None


def test_content_from_api_is_tolerant():
    content = Content.from_api(
        {
            "content_id": "7",
            "title": "T",
            "category_ids": "1,2",
            "chapters": [{"chapter_id": 1, "items": [{"item_id": 3, "duration_text": "1:02:03"}]}],
            "created_at": "2026-01-02T03:04:05.123456Z",
            "unknown": {"nested": True},
        }
    )
    assert content.content_id == 7
    assert content.category_ids == [1, 2]
    assert content.chapters[0].items[0].duration_seconds == 3723
    assert content.created_at == datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
    assert content.raw["unknown"] == {"nested": True}
    empty = Content.from_api({})
    assert empty.content_id is None and empty.chapters == [] and empty.updated_at is None
    assert Content.from_api(None).title == ""


def test_pagination_computes_has_more_when_missing():
    assert Pagination.from_api({"current_page": 1, "last_page": 3}).has_more_pages is True
    assert Pagination.from_api({"current_page": 3, "last_page": 3}).has_more_pages is False


def test_flatten_form_uses_bracket_notation():
    fields = flatten_form(
        {
            "title": "A",
            "category_ids": [1, 2],
            "is_on_sale": True,
            "chapters": [{"title": "C", "items": [{"title": "I"}]}],
        }
    )
    assert ("category_ids[]", "1") in fields and ("category_ids[]", "2") in fields
    assert ("is_on_sale", "1") in fields
    assert ("chapters[0][title]", "C") in fields
    assert ("chapters[0][items][0][title]", "I") in fields


def test_limit_over_100_raises_before_sending():
    # Port 9 would refuse; the ValueError proves nothing was sent.
    client = ContentsClient("http://127.0.0.1:9/api", "key-123456")
    with pytest.raises(ValueError, match="limit"):
        client.list_contents(limit=101)


def test_factory_names_the_missing_setting(settings):
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "CONTENTS_API_KEY": ""}
    with pytest.raises(ConfigurationError, match="CONTENTS_API_KEY"):
        contents_client()
