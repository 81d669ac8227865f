"""wagtail_kollus.video_cache: the per-process copy of KollusVideo rows used by the blocks.

Every test gets its own, empty process copy (``_copies`` is swapped per test), so the order
tests run in on an xdist worker never matters. Query counts are the contract: a cold load is
two queries (the generation counter, then the rows), a warm one is the counter read alone.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import signals
from django.test.utils import CaptureQueriesContext

from tests.test_blocks import make_page, make_video, video_block_data
from tests.testapp.models import VideoPage
from wagtail_kollus import video_cache
from wagtail_kollus.blocks import KollusVideoBlock, KollusVideoChooserBlock
from wagtail_kollus.models import (
    KollusMedia,
    KollusVideo,
    MediaState,
    VideoRowsGeneration,
    VideoSource,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _own_process_copy(monkeypatch):
    # The module looks ``_copies`` up by name, so this isolates the copy per test and restores
    # the worker's own afterwards.
    monkeypatch.setattr(video_cache, "_copies", {})


def generation() -> int | None:
    return video_cache.current_generation()


def copy_size() -> int:
    copy_ = video_cache._copies.get("default")
    return 0 if copy_ is None else len(copy_.rows)


def quoted(name: str) -> str:
    return connection.ops.quote_name(name)


def raw_update_video_title(pk: int, title: str) -> None:
    table = quoted(KollusVideo._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {quoted('title')} = %s WHERE {quoted('id')} = %s",  # noqa: S608
            [title, pk],
        )
        assert cursor.rowcount == 1


def raw_set_generation(value: int) -> None:
    table = quoted(VideoRowsGeneration._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {quoted('value')} = %s WHERE {quoted('id')} = 1",  # noqa: S608
            [value],
        )
        assert cursor.rowcount == 1


def raw_delete_generation_row() -> None:
    table = quoted(VideoRowsGeneration._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table}")  # noqa: S608


def library_video(n: int = 1, state: str = MediaState.READY) -> KollusVideo:
    media = KollusMedia.objects.create(
        title=f"media {n}",
        media_content_key=f"mckey{n:04d}",
        state=state,
        channels=[{"channel_key": "main", "media_content_key": f"mckey{n:04d}"}],
    )
    return make_video(n, source=VideoSource.LIBRARY, media=media)


def page_values(page: VideoPage) -> list:
    """The page's block values as a fresh request would see them (body converted anew)."""
    fresh = VideoPage.objects.get(pk=page.pk)
    return [block.value for block in fresh.body]


def concrete_values(instance) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


# --- 1. query counts and fresh instances ---------------------------------------------------


def test_cold_load_is_two_queries_and_warm_load_one(django_assert_num_queries):
    media = KollusMedia.objects.create(title="m", media_content_key="k", state=MediaState.READY)
    videos = [make_video(n, media=media if n == 1 else None) for n in range(1, 6)]
    ids = [v.pk for v in videos]
    assert copy_size() == 0  # the writes above dropped any copy

    with django_assert_num_queries(2) as ctx:
        cold = video_cache.load_videos(ids)
        assert cold[ids[0]].media.title == "m"  # library media joined, no extra query
        assert cold[ids[0]].is_playable
    assert "wagtail_kollus_videorowsgeneration" in ctx.captured_queries[0]["sql"].lower()
    assert copy_size() == 5

    with django_assert_num_queries(1) as ctx:
        warm = video_cache.load_videos(ids)
        assert warm[ids[0]].media.title == "m"
        assert warm[ids[1]].media is None
    assert "wagtail_kollus_videorowsgeneration" in ctx.captured_queries[0]["sql"].lower()

    assert list(warm) == ids
    for pk in ids:
        assert warm[pk] is not cold[pk]
        fresh = KollusVideo.objects.get(pk=pk)
        assert concrete_values(warm[pk]) == concrete_values(fresh)
        assert warm[pk] == fresh
        assert warm[pk]._state.adding is False
        assert warm[pk]._state.db == "default"
    assert warm[ids[0]].media is not cold[ids[0]].media
    assert concrete_values(warm[ids[0]].media) == concrete_values(KollusMedia.objects.get())


def test_missing_and_partial_loads(django_assert_num_queries):
    one, two = make_video(1), make_video(2)
    with django_assert_num_queries(2):
        assert list(video_cache.load_videos([one.pk, 999_999])) == [one.pk]
    # Only the row this process has not seen is queried.
    with CaptureQueriesContext(connection) as ctx:
        loaded = video_cache.load_videos([one.pk, two.pk])
    assert len(ctx.captured_queries) == 2
    assert f"IN ({two.pk})" in ctx.captured_queries[1]["sql"].replace("'", "")
    assert set(loaded) == {one.pk, two.pk}
    # Nothing to load: not even the counter is read.
    with django_assert_num_queries(0):
        assert video_cache.load_videos([None]) == {}
        assert video_cache.load_videos([]) == {}


def test_mutating_a_loaded_instance_does_not_leak_into_the_next_load():
    video = library_video(1)
    for _ in range(2):  # cold, then warm
        loaded = video_cache.load_videos([video.pk])[video.pk]
        assert loaded.title == "Lesson 1"
        assert loaded.media.channels == [{"channel_key": "main", "media_content_key": "mckey0001"}]
        loaded.title = "x"
        loaded.media.title = "y"
        loaded.media.channels.append({"channel_key": "leak"})
        loaded.media.channels[0]["media_content_key"] = "leak"
        loaded.media = None
    again = video_cache.load_videos([video.pk])[video.pk]
    assert again.title == "Lesson 1"
    assert again.media.title == "media 1"
    assert again.media.channels == [{"channel_key": "main", "media_content_key": "mckey0001"}]


def test_duplicate_blocks_on_one_page_get_distinct_objects(django_assert_num_queries):
    video = library_video(1)
    other = make_video(2)
    page = make_page(
        [video_block_data(video), video_block_data(other), video_block_data(video)],
        title="Dupes",
    )
    page = VideoPage.objects.get(pk=page.pk)
    video_cache._copies.clear()
    with django_assert_num_queries(2):
        values = [block.value for block in page.body]
    first, _, third = (v.video for v in values)
    assert first.pk == third.pk == video.pk
    assert first is not third
    first.title = "changed on the first block"
    assert third.title == "Lesson 1"
    # And the next request (warm: one query) gets untouched instances again.
    page = VideoPage.objects.get(pk=page.pk)
    with django_assert_num_queries(1):
        values = [block.value for block in page.body]
    assert [v.video.title for v in values] == ["Lesson 1", "Lesson 2", "Lesson 1"]
    assert values[0].video is not first


# --- 2. every ORM write path marks the rows stale -------------------------------------------


def warm(*videos) -> int:
    """Load ``videos`` twice (so the second is served from the copy); the generation."""
    ids = [v.pk for v in videos]
    video_cache.load_videos(ids)
    with CaptureQueriesContext(connection) as ctx:
        video_cache.load_videos(ids)
    assert len(ctx.captured_queries) == 1
    value = generation()
    assert value is not None
    return value


def test_save_marks_rows_stale():
    video = make_video(1)
    before = warm(video)
    video.title = "Saved"
    video.save()
    assert generation() != before
    assert video_cache.load_videos([video.pk])[video.pk].title == "Saved"


def test_delete_marks_rows_stale_and_the_page_shows_the_placeholder(client, sandbox):
    video = make_video(1)
    page = make_page([video_block_data(video)], title="Deleted")
    html = client.get(page.url).content.decode()
    assert "<iframe" in html
    before = warm(video)
    pk = video.pk
    video.delete()
    assert generation() != before
    assert video_cache.load_videos([pk]) == {}
    [value] = page_values(page)
    assert value.video is None and not value.is_playable
    assert "data-kollus-unavailable" in KollusVideoBlock().render(value)
    html = client.get(page.url).content.decode()
    assert "data-kollus-unavailable" in html
    assert "<iframe" not in html


def test_queryset_delete_marks_rows_stale():
    video = make_video(1)
    before = warm(video)
    KollusVideo.objects.filter(pk=video.pk).delete()
    assert generation() != before
    assert video_cache.load_videos([video.pk]) == {}


def test_queryset_update_marks_rows_stale(client, sandbox):
    video = make_video(1)
    page = make_page([video_block_data(video)], title="Updated")
    assert "<iframe" in client.get(page.url).content.decode()
    before = warm(video)
    assert KollusVideo.objects.filter(pk=video.pk).update(title="Updated", is_available=False)
    assert generation() != before
    loaded = video_cache.load_videos([video.pk])[video.pk]
    assert loaded.title == "Updated" and not loaded.is_playable
    [value] = page_values(page)
    assert value.video.title == "Updated" and not value.is_playable
    html = client.get(page.url).content.decode()
    assert "data-kollus-unavailable" in html and "<iframe" not in html


def test_an_update_that_matches_nothing_keeps_the_copy():
    video = make_video(1)
    before = warm(video)
    assert KollusVideo.objects.filter(pk=video.pk + 1000).update(title="none") == 0
    assert generation() == before
    with CaptureQueriesContext(connection) as ctx:
        assert video_cache.load_videos([video.pk])[video.pk].title == "Lesson 1"
    assert len(ctx.captured_queries) == 1


def test_bulk_update_marks_rows_stale():
    one, two = make_video(1), make_video(2)
    before = warm(one, two)
    one.title, two.title = "Bulk 1", "Bulk 2"
    assert KollusVideo.objects.bulk_update([one, two], ["title"]) == 2
    assert generation() != before
    loaded = video_cache.load_videos([one.pk, two.pk])
    assert [v.title for v in loaded.values()] == ["Bulk 1", "Bulk 2"]


def test_bulk_create_with_update_conflicts_marks_rows_stale():
    if not connection.features.supports_update_conflicts_with_target:
        pytest.skip("this database has no INSERT … ON CONFLICT (…) DO UPDATE")
    video = make_video(1)
    before = warm(video)
    upsert = KollusVideo(**{**concrete_values(video), "title": "Upserted"})
    KollusVideo.objects.bulk_create(
        [upsert], update_conflicts=True, unique_fields=["id"], update_fields=["title"]
    )
    assert KollusVideo.objects.count() == 1
    assert generation() != before
    assert video_cache.load_videos([video.pk])[video.pk].title == "Upserted"


def test_bulk_create_of_new_rows_marks_rows_stale():
    video = make_video(1)
    before = warm(video)
    [created] = KollusVideo.objects.bulk_create(
        [KollusVideo(title="New", media_content_key="new", content_id=1, item_id=1)]
    )
    assert generation() != before
    assert video_cache.load_videos([created.pk, video.pk])[created.pk].title == "New"


def test_media_state_update_makes_a_library_video_unplayable(client, sandbox):
    video = library_video(1)
    page = make_page([video_block_data(video)], title="Media state")
    assert "<iframe" in client.get(page.url).content.decode()
    before = warm(video)
    assert video_cache.load_videos([video.pk])[video.pk].is_playable
    assert KollusMedia.objects.filter(pk=video.media_id).update(state=MediaState.FAILED) == 1
    assert generation() != before
    loaded = video_cache.load_videos([video.pk])[video.pk]
    assert loaded.media.state == MediaState.FAILED and not loaded.is_playable
    [value] = page_values(page)
    assert not value.is_playable
    html = client.get(page.url).content.decode()
    assert "data-kollus-unavailable" in html and "<iframe" not in html


def test_media_save_marks_rows_stale():
    video = library_video(1)
    before = warm(video)
    media = KollusMedia.objects.get(pk=video.media_id)
    media.poster_url = "https://img.example.com/poster.jpg"
    media.state = MediaState.TRANSCODING
    media.save()
    assert generation() != before
    loaded = video_cache.load_videos([video.pk])[video.pk]
    assert loaded.media.poster_url == "https://img.example.com/poster.jpg"
    assert not loaded.is_playable


@pytest.mark.parametrize("how", ["instance", "queryset"])
def test_media_deletion_sets_the_videos_media_to_null(how):
    video = library_video(1, state=MediaState.FAILED)
    before = warm(video)
    assert not video_cache.load_videos([video.pk])[video.pk].is_playable
    if how == "instance":
        KollusMedia.objects.get(pk=video.media_id).delete()
    else:
        KollusMedia.objects.filter(pk=video.media_id).delete()
    assert generation() != before
    loaded = video_cache.load_videos([video.pk])[video.pk]
    assert loaded.media_id is None and loaded.media is None
    assert loaded.is_playable  # no library media known: playable on its own key


def test_deleting_the_uploader_marks_rows_stale():
    user = get_user_model().objects.create_user(username="uploader", password="x")  # noqa: S106
    video = library_video(1)
    KollusMedia.objects.filter(pk=video.media_id).update(uploaded_by=user)
    before = warm(video)
    assert video_cache.load_videos([video.pk])[video.pk].media.uploaded_by_id == user.pk
    user.delete()
    assert KollusMedia.objects.get(pk=video.media_id).uploaded_by_id is None
    loaded = video_cache.load_videos([video.pk])[video.pk]
    assert loaded.media.uploaded_by_id is None
    assert generation() != before


# --- 3. writes made elsewhere ---------------------------------------------------------------


def test_another_process_commit_is_seen(django_assert_num_queries):
    video = make_video(1)
    before = warm(video)
    # Exactly what another process's ORM write commits: the row and a new counter value.
    raw_update_video_title(video.pk, "From another process")
    raw_set_generation(before + 1)
    with django_assert_num_queries(2):
        assert video_cache.load_videos([video.pk])[video.pk].title == "From another process"
    with django_assert_num_queries(1):
        assert video_cache.load_videos([video.pk])[video.pk].title == "From another process"


def test_raw_sql_without_the_counter_is_not_seen_until_invalidate():
    video = make_video(1)
    before = warm(video)
    raw_update_video_title(video.pk, "Raw")
    assert generation() == before
    # The documented limitation: this process keeps serving its copy ...
    assert video_cache.load_videos([video.pk])[video.pk].title == "Lesson 1"
    # ... until the raw writer calls invalidate().
    video_cache.invalidate()
    assert generation() != before
    assert video_cache.load_videos([video.pk])[video.pk].title == "Raw"


def test_invalidate_is_seen_by_a_copy_whose_process_did_not_write():
    video = make_video(1)
    warm(video)
    raw_update_video_title(video.pk, "Raw")
    # Another process called invalidate(): it cannot pop this process's copy, only the counter.
    saved = video_cache._copies.copy()
    video_cache.invalidate()
    video_cache._copies.update(saved)
    assert video_cache.load_videos([video.pk])[video.pk].title == "Raw"


# --- 4. rollback ----------------------------------------------------------------------------


class Boom(Exception):
    pass


def test_a_rolled_back_write_leaves_no_stale_rows():
    video = make_video(1)
    before = warm(video)
    with pytest.raises(Boom), transaction.atomic():
        video.title = "Rolled back"
        video.save()
        assert video_cache.load_videos([video.pk])[video.pk].title == "Rolled back"
        assert video_cache.load_videos([video.pk])[video.pk].title == "Rolled back"  # warm
        raise Boom
    assert generation() == before
    assert video_cache.load_videos([video.pk])[video.pk].title == "Lesson 1"
    assert KollusVideo.objects.get(pk=video.pk).title == "Lesson 1"


def test_a_rolled_back_delete_leaves_the_video_loadable():
    video = make_video(1)
    warm(video)
    with pytest.raises(Boom), transaction.atomic():
        KollusVideo.objects.filter(pk=video.pk).delete()
        assert video_cache.load_videos([video.pk]) == {}
        raise Boom
    assert video_cache.load_videos([video.pk])[video.pk].title == "Lesson 1"


# --- 5. a missing counter row ---------------------------------------------------------------


def test_a_flushed_counter_row_disables_caching_until_the_next_write(django_assert_num_queries):
    video = make_video(1)
    warm(video)
    raw_delete_generation_row()
    assert generation() is None
    for _ in range(3):
        with django_assert_num_queries(2):  # the counter read finds nothing; rows every time
            assert video_cache.load_videos([video.pk])[video.pk].title == "Lesson 1"
    raw_update_video_title(video.pk, "Raw while flushed")
    with django_assert_num_queries(2):
        assert video_cache.load_videos([video.pk])[video.pk].title == "Raw while flushed"

    video.refresh_from_db()
    video.title = "Saved"
    video.save()  # recreates the counter row
    assert VideoRowsGeneration.objects.filter(pk=1).exists()
    assert generation() is not None
    with django_assert_num_queries(2):
        assert video_cache.load_videos([video.pk])[video.pk].title == "Saved"
    with django_assert_num_queries(1):
        assert video_cache.load_videos([video.pk])[video.pk].title == "Saved"


def test_invalidate_also_recreates_a_missing_counter_row():
    video = make_video(1)
    raw_delete_generation_row()
    video_cache.invalidate()
    assert generation() is not None
    warm(video)


# --- 6. MAX_ROWS ----------------------------------------------------------------------------


def test_the_copy_is_bounded_by_max_rows_for_disjoint_loads(monkeypatch):
    monkeypatch.setattr(video_cache, "MAX_ROWS", 3)
    videos = [make_video(n) for n in range(1, 7)]
    for group in ([0, 1], [2], [3], [4, 5], [0, 1, 2], [5], [3]):
        ids = [videos[i].pk for i in group]
        loaded = video_cache.load_videos(ids)
        assert list(loaded) == ids
        assert [v.title for v in loaded.values()] == [videos[i].title for i in group]
        assert copy_size() <= 3


def test_overflowing_max_rows_keeps_the_already_cached_rows_in_the_result(monkeypatch):
    monkeypatch.setattr(video_cache, "MAX_ROWS", 3)
    videos = [make_video(n) for n in range(1, 5)]
    ids = [v.pk for v in videos]
    video_cache.load_videos(ids[:3])  # the copy is full
    loaded = video_cache.load_videos([ids[0], ids[3]])
    assert list(loaded) == [ids[0], ids[3]]


def test_a_single_load_larger_than_max_rows_does_not_exceed_it(monkeypatch):
    monkeypatch.setattr(video_cache, "MAX_ROWS", 3)
    videos = [make_video(n) for n in range(1, 6)]
    loaded = video_cache.load_videos([v.pk for v in videos])
    assert len(loaded) == 5
    assert copy_size() <= 3


# --- 7. post_init listeners -----------------------------------------------------------------


def test_post_init_receivers_see_cached_instances(django_assert_num_queries):
    video = library_video(1)
    calls: list = []

    def receiver(sender, instance, **kwargs):
        calls.append(instance)

    signals.post_init.connect(receiver, sender=KollusVideo)
    try:
        cold = video_cache.load_videos([video.pk])[video.pk]
        assert any(instance is cold for instance in calls)
        calls.clear()
        with django_assert_num_queries(1):
            warm_ = video_cache.load_videos([video.pk])[video.pk]
        assert len(calls) == 1 and calls[0] is warm_
        assert warm_ is not cold
        assert concrete_values(warm_) == concrete_values(KollusVideo.objects.get(pk=video.pk))
        assert warm_._state.adding is False and warm_._state.db == "default"
        # Built through from_db, the JSON values are still each instance's own.
        warm_.media.channels.append("leak")
        assert "leak" not in video_cache.load_videos([video.pk])[video.pk].media.channels
    finally:
        assert signals.post_init.disconnect(receiver, sender=KollusVideo)
    calls.clear()
    video_cache.load_videos([video.pk])
    assert calls == []


# --- 8. string pks --------------------------------------------------------------------------


def test_string_pks_load_the_same_video(django_assert_num_queries):
    video = make_video(1)
    with django_assert_num_queries(2):
        loaded = video_cache.load_videos([str(video.pk)])
    assert list(loaded) == [video.pk]
    assert loaded[video.pk].title == "Lesson 1"
    with django_assert_num_queries(1):
        assert list(video_cache.load_videos([str(video.pk), video.pk, "nope"])) == [video.pk]

    block = KollusVideoChooserBlock()
    values = block.bulk_to_python([str(video.pk), video.pk, "nope", None])
    assert [getattr(v, "pk", None) for v in values] == [video.pk, video.pk, None, None]
    assert values[0] is not values[1]


def test_a_page_storing_a_string_pk_renders_the_video(client, sandbox):
    video = make_video(12)
    data = video_block_data(video)
    data["value"]["video"] = str(video.pk)
    page = make_page([data, video_block_data(video)], title="String pk")
    values = page_values(page)
    assert [v.video.pk for v in values] == [video.pk, video.pk]
    assert values[0].video is not values[1].video
    assert values[0].title == "Lesson 12"
    html = client.get(page.url).content.decode()
    assert html.count("<iframe") == 2


def test_without_the_counter_table_pages_render_and_writes_work(
    monkeypatch, client, sandbox, caplog
):
    """Code deployed before ``migrate``: no caching and no counter, but nothing breaks."""
    table = quoted(VideoRowsGeneration._meta.db_table)
    monkeypatch.setattr(video_cache, "_counter_tables", set())
    monkeypatch.setattr(video_cache, "_missing_reported", set())
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {table} RENAME TO {quoted('kollus_counter_away')}")
    try:
        with transaction.atomic():  # a missing table must not break the caller's transaction
            video = make_video(1)  # post_save finds no counter: the save still succeeds
            page = make_page([video_block_data(video)])
            for _ in range(2):  # every load queries the rows: nothing is kept
                with CaptureQueriesContext(connection) as queries:
                    assert [v.video.title for v in page_values(page)] == ["Lesson 1"]
                assert any("wagtail_kollus_kollusvideo" in q["sql"] for q in queries)
            KollusVideo.objects.filter(pk=video.pk).update(title="Renamed")
            assert [v.video.title for v in page_values(page)] == ["Renamed"]
            assert copy_size() == 0
        assert caplog.text.count("counter table is missing") == 1  # once, not per page
        assert client.get(page.url).status_code == 200
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {quoted('kollus_counter_away')} RENAME TO {table}")
