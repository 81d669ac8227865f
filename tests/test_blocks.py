"""KollusVideoBlock: loading, rendering, API output, diffs, references, search, placeholders."""

from __future__ import annotations

import json

import pytest
from django.test import RequestFactory
from wagtail.admin.compare import get_comparison_class_for_block
from wagtail.models import ReferenceIndex

from tests.factories import make_page, make_video, struct_value, video_block_data
from tests.testapp.models import VideoPage
from wagtail_kollus.blocks import (
    KollusVideoBlock,
    KollusVideoChooserBlock,
    KollusVideoChooserBlockComparison,
)
from wagtail_kollus.models import KollusMedia, KollusVideo, MediaState

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("cache_safe", [False, True], ids=["render-time", "cache-safe"])
def test_a_page_of_many_video_blocks_loads_and_renders_in_one_query(
    django_assert_num_queries, sandbox, settings, cache_safe
):
    """One plain query for the videos, and nothing read from their media afterwards: not for
    ``is_playable``, the poster (cache-safe markup), nor the API representation."""
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "CACHE_SAFE_PLAYBACK": cache_safe}
    media = [
        KollusMedia.objects.create(
            title=f"m{n}",
            media_content_key=f"mckey{n:04d}",
            state=MediaState.READY,
            poster_url=f"https://img.example.com/poster-{n}.jpg",
        )
        for n in range(1, 4)
    ]
    # Library-style rows: with media, two without a thumbnail of their own.
    videos = [make_video(n, media=media[n - 1], thumbnail_url="") for n in (1, 2)]
    videos += [make_video(3, media=media[2])]
    videos += [make_video(n) for n in range(4, 11)]
    page = make_page([video_block_data(v) for v in videos] + [video_block_data(videos[0])])
    page = VideoPage.objects.get(pk=page.pk)
    before = sandbox.request_count()
    with django_assert_num_queries(1):
        values = [block.value for block in page.body]
        assert [v.video.pk for v in values] == [v.pk for v in videos] + [videos[0].pk]
        assert all(v.is_playable for v in values)
        assert values[0].video is not values[-1].video  # one object per block
        html = "".join(block.render({"request": RequestFactory().get("/")}) for block in page.body)
        assert html.count("<iframe") == len(values)
        api = [block.block.get_api_representation(block.value) for block in page.body]
        assert [item["poster_url"] for item in api][:3] == ["", "", videos[2].thumbnail_url]
    assert sandbox.request_count() == before


def test_a_chosen_videos_thumbnail_comes_from_its_media_when_it_has_none(
    admin_client, sandbox, django_capture_on_commit_callbacks
):
    """Pages read the row's own thumbnail; a media's poster reaches the rows that lack one."""
    from wagtail_kollus.chooser.copying import refresh_library_videos

    media = KollusMedia.objects.create(
        title="m", media_content_key="mckey0001", state=MediaState.READY, poster_url=""
    )
    item = make_video(1, media=media, thumbnail_url="")
    pictured = make_video(2, media=media)
    media.poster_url = "https://img.example.com/poster.jpg"
    media.save()
    refresh_library_videos(media)  # what video_ready / video_updated run after the commit
    item.refresh_from_db()
    pictured.refresh_from_db()
    assert struct_value(item).poster_url == "https://img.example.com/poster.jpg"
    assert pictured.thumbnail_url == "https://img.example.com/2.jpg"  # its own picture stays


def test_a_video_withdrawn_by_any_write_shows_the_placeholder_on_the_next_render(client, sandbox):
    """No copy of the rows outlives a write: not even a bulk update, which sends no signal.

    (A media's state reaches its videos through ``availability.apply_media``, in the same
    transaction as every write of that state: tests/test_availability.py.)
    """
    media = KollusMedia.objects.create(
        title="m", media_content_key="mckey0001", state=MediaState.READY
    )
    video = make_video(1, media=media)
    page = make_page([video_block_data(video)])
    assert "<iframe" in client.get(page.url).content.decode()
    KollusVideo.objects.filter(pk=video.pk).update(is_available=False)
    html = client.get(page.url).content.decode()
    assert "data-kollus-unavailable" in html and "<iframe" not in html
    KollusVideo.objects.filter(pk=video.pk).update(is_available=True)
    assert "<iframe" in client.get(page.url).content.decode()
    KollusVideo.objects.filter(pk=video.pk).delete()
    assert "data-kollus-unavailable" in client.get(page.url).content.decode()


def test_page_render_makes_no_http_call_and_shows_the_player(client, sandbox):
    video = make_video(1)
    page = make_page([video_block_data(video, autoplay=True, start_time=30)])
    before = sandbox.request_count()
    response = client.get(page.url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<iframe" in html
    assert sandbox.player_url in html
    assert sandbox.request_count() == before


def test_unavailable_video_renders_a_placeholder(sandbox):
    video = make_video(1, is_available=False)
    html = KollusVideoBlock().render(struct_value(video))
    assert "data-kollus-unavailable" in html
    assert "<iframe" not in html
    # A video deleted locally (the block keeps a dangling pk) degrades the same way.
    value = KollusVideoBlock().bulk_to_python([video_block_data(None)["value"]])[0]
    assert value.video is None and not value.is_playable
    html = KollusVideoBlock().render(value)
    assert "data-kollus-unavailable" in html


def test_value_properties_and_player_options():
    video = make_video(1)
    value = struct_value(
        video,
        autoplay=True,
        mute=True,
        start_time=42,
        allow_seek=False,
        disable_playrate=True,
        title_override="Watch this",
    )
    assert value.video == video
    assert value.media_content_key == "mckey0001"
    assert value.title == "Watch this"
    assert value.poster_url == video.thumbnail_url
    assert value.duration_seconds == 61
    assert value.is_playable
    assert value.mc_options() == {"seek": False, "disable_playrate": True, "title": "Watch this"}
    assert value.url_params() == {"autoplay": True, "mute": True, "t": 42}
    plain = struct_value(video)
    assert plain.title == "Lesson 1"
    assert plain.url_params() == {}
    assert plain.mc_options() == {"seek": True, "disable_playrate": False, "title": "Lesson 1"}


def test_api_representation_has_metadata_and_no_secret(rf, sandbox):
    video = make_video(1)
    block = KollusVideoBlock()
    data = block.get_api_representation(struct_value(video, title_override="T"))
    assert data["video"]["id"] == video.pk
    assert data["video"]["title"] == "Lesson 1"
    assert data["title"] == "T"
    assert data["player"]["token_url"] == "/kollus/player/token/"
    assert data["player"]["reference"]
    text = json.dumps(data)
    for secret in (
        sandbox.keys.security_key,
        sandbox.keys.access_token,
        sandbox.keys.custom_key,
        sandbox.keys.server_key,
    ):
        assert secret not in text
    assert "jwt" not in text
    assert "mckey0001" not in text  # the reference is opaque; the key is not listed
    unplayable = block.get_api_representation(struct_value(make_video(2, is_available=False)))
    assert unplayable["player"] is None


def test_the_reference_turns_into_a_player_url_at_the_token_endpoint(client, sandbox):
    data = KollusVideoBlock().get_api_representation(struct_value(make_video(1)))
    response = client.get(data["player"]["token_url"], {"reference": data["player"]["reference"]})
    assert response.status_code == 200
    assert response.json()["url"].startswith(sandbox.player_url)


def test_revision_comparison_names_the_videos():
    old, new = make_video(1), make_video(2, title="<b>New</b> lesson")
    chooser = KollusVideoChooserBlock()
    assert get_comparison_class_for_block(chooser) is KollusVideoChooserBlockComparison
    comparison = KollusVideoChooserBlockComparison(chooser, True, True, old, new)
    assert comparison.has_changed()
    diff = comparison.htmldiff()
    assert "Lesson 1" in diff and "&lt;b&gt;New&lt;/b&gt; lesson" in diff
    assert "<b>New" not in diff
    assert not KollusVideoChooserBlockComparison(chooser, True, True, old, old).has_changed()

    struct = KollusVideoBlock()
    struct_comparison = get_comparison_class_for_block(struct)(
        struct, True, True, struct_value(old), struct_value(new)
    )
    assert struct_comparison.has_changed()
    assert "Lesson 1" in struct_comparison.htmldiff()


def test_reference_index_records_page_to_video():
    video = make_video(1)
    page = make_page([video_block_data(video)])
    ReferenceIndex.create_or_update_for_object(page)
    references = ReferenceIndex.get_references_to(video)
    assert [r.object_id for r in references] == [str(page.pk)]
    assert (
        ReferenceIndex.get_references_for_object(page).filter(to_object_id=str(video.pk)).exists()
    )


def test_video_title_is_searchable_content():
    video = make_video(1, title="Guitar chords", content_title="Guitar basics")
    page = make_page([video_block_data(video, title_override="Lesson one")])
    page = VideoPage.objects.get(pk=page.pk)
    stream_block = VideoPage.body.field.stream_block
    content = stream_block.get_searchable_content(page.body)
    assert "Guitar chords" in content
    assert "Guitar basics" in content
    assert "Lesson one" in content


def test_editor_form_state_and_page_edit_make_no_http_call(admin_client, sandbox):
    video = make_video(1, title="<script>x</script>")
    block = KollusVideoBlock()
    state = block.get_form_state(struct_value(video))
    assert state["video"]["id"] == video.pk
    assert state["video"]["title"] == "<script>x</script>"  # raw data; telepath renders text
    page = make_page([video_block_data(video)])
    before = sandbox.request_count()
    response = admin_client.get(f"/admin/pages/{page.pk}/edit/")
    assert response.status_code == 200
    assert sandbox.request_count() == before
    assert "<script>x</script>" not in response.content.decode()


def test_block_deconstructs_to_importable_paths():
    name, args, kwargs = KollusVideoChooserBlock().deconstruct()
    assert name == "wagtail_kollus.blocks.KollusVideoChooserBlock"


def test_block_cleans_a_chosen_pk_back_to_the_row():
    video = make_video(1)
    block = KollusVideoChooserBlock()
    assert block.clean(video) == video
    assert block.value_from_form(str(video.pk)) == video
    assert block.to_python(video.pk) == video
    assert block.get_prep_value(video) == video.pk


@pytest.fixture
def rf():
    return RequestFactory()


# --- loading the videos of a page ------------------------------------------------------------


def test_stored_pks_as_strings_missing_rows_and_duplicates(django_assert_num_queries):
    videos = [make_video(1), make_video(2)]
    raw = [
        video_block_data(videos[0], autoplay=True)["value"],
        {"video": str(videos[1].pk)},  # an old revision or an import stored the pk as text
        {"video": 999_999},  # the row was deleted since
        {"video": "not-a-pk"},
        {"autoplay": True},  # no video key at all
        video_block_data(videos[0])["value"],
    ]
    with django_assert_num_queries(1):
        values = KollusVideoBlock().bulk_to_python(raw)
    assert [getattr(v["video"], "pk", None) for v in values] == [
        videos[0].pk,
        videos[1].pk,
        None,
        None,
        None,
        videos[0].pk,
    ]
    assert values[0]["video"] is not values[5]["video"]  # one object per block
    assert values[1]["allow_seek"] is True and values[4]["start_time"] == 0  # defaults
    with django_assert_num_queries(0):
        assert KollusVideoChooserBlock().bulk_to_python([None, "x"]) == [None, None]
