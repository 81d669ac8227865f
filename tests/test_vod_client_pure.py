"""Kollus client parts that need no server: paths, date splitting, records, envelopes."""

from datetime import date

import pytest

from wagtail_kollus.accounts import kollus_client
from wagtail_kollus.api.envelopes import unwrap_kollus
from wagtail_kollus.api.errors import (
    ConfigurationError,
    KollusAPIError,
    NotFoundError,
    ValidationError,
)
from wagtail_kollus.api.paths import KOLLUS_PATHS, build_path, resolve_paths
from wagtail_kollus.api.types import Media, UploadTicket
from wagtail_kollus.api.vod import split_date_range
from wagtail_kollus.media.explain import explain


def test_split_one_year_into_92_day_chunks():
    chunks = split_date_range(date(2025, 1, 1), date(2025, 12, 31))
    assert len(chunks) == 4
    assert chunks[0] == (date(2025, 1, 1), date(2025, 4, 2))
    assert all((end - start).days + 1 <= 92 for start, end in chunks)
    assert all(chunks[i][1].toordinal() + 1 == chunks[i + 1][0].toordinal() for i in range(3))
    assert chunks[-1][1] == date(2025, 12, 31)


def test_split_short_and_reversed_ranges():
    assert split_date_range(date(2025, 1, 1), date(2025, 1, 1)) == [(date(2025, 1, 1),) * 2]
    with pytest.raises(ValueError):
        split_date_range(date(2025, 1, 2), date(2025, 1, 1))


def test_path_overrides_and_quoting():
    paths = resolve_paths({"media_delete": "/api/v9/media/{upload_file_key}/remove"})
    assert paths["media_delete"] == "/api/v9/media/{upload_file_key}/remove"
    assert paths["media_list"] == KOLLUS_PATHS["media_list"]
    assert (
        build_path(paths["media_detail"], upload_file_key="a/b?c")
        == "/api/media-contents/a%2Fb%3Fc"
    )
    with pytest.raises(ConfigurationError, match="media_nope"):
        resolve_paths({"media_nope": "/x"})


def test_factory_names_the_missing_setting(settings):
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "KOLLUS_ACCESS_TOKEN": ""}
    with pytest.raises(ConfigurationError, match="KOLLUS_ACCESS_TOKEN"):
        kollus_client()


def test_factory_uses_path_overrides(settings):
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "KOLLUS_API_PATHS": {"categories": "/c"}}
    assert kollus_client().paths["categories"] == "/c"


def test_media_from_api_maps_state_and_channels():
    media = Media.from_api(
        {
            "upload_file_key": "u1",
            "category": {"key": "c1", "name": "Cat"},
            "duration": "61",
            "use_encryption": 1,
            "transcoding_stage_name": "completed",
            "media_content_keys": [
                {"channel_key": "ch", "media_content_key": "mk", "profile_key": "p1|p2"}
            ],
            "created_at": 1700000000,
        }
    )
    assert media.state == "ready" and media.duration == 61 and media.use_encryption is True
    assert media.category_key == "c1" and media.media_content_key("ch") == "mk"
    assert media.channels[0].profile_keys == ["p1", "p2"]
    assert media.created_at.year == 2023
    assert Media.from_api({"transcoding_stage_name": "uploaded"}).state == "transcoding"
    assert Media.from_api({}).state == "uploading"


def test_ticket_accepts_both_expiry_names():
    assert UploadTicket.from_api({"will_be_expired_at": 1700000000}).expires_at is not None
    assert UploadTicket.from_api({"expired_at": "1700000000"}).expires_at is not None


def test_envelopes():
    assert unwrap_kollus({"data": {"a": 1}}) == {"a": 1}
    assert unwrap_kollus({"error": 0, "message": "ok", "result": {"a": 1}}) == {"a": 1}
    with pytest.raises(NotFoundError):
        unwrap_kollus({"error": 1, "message": "Media content not found."})
    with pytest.raises(ValidationError) as info:
        unwrap_kollus({"error": 3, "message": "bad date"})
    assert info.value.field_errors == {"__all__": ["bad date"]}


def test_explain_names_the_status_once():
    unexpected = KollusAPIError("Kollus API answered HTTP 418.", status_code=418)
    assert explain(unexpected) == "Kollus API answered HTTP 418."
    refused = ValidationError("Kollus API: title is required", status_code=422)
    assert explain(refused) == "Kollus API: title is required (HTTP 422)"
    assert explain(NotFoundError("")) == NotFoundError.default_message
