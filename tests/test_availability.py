"""Withdrawn means withdrawn: the remote state decides whether a chosen video plays.

Everything talks HTTP to the sandbox: records are paused, edited and deleted through the
contents API (and the sandbox's control API where the real API has no call), media are
detached and deleted through the Kollus API. The local side runs as in production: the
chooser's views copy the videos, ``kollus_sync --pull`` and the callback task read the remote
state, and a page, the ``{% kollus_player %}`` tag and the token endpoint show the outcome.
"""

from __future__ import annotations

import io

import pytest
import requests
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from tests.factories import deliver, make_course, make_page, video_block_data
from tests.playback_support import (
    assert_plays,
    assert_withdrawn,
    cache_safe_reference,
    choose_item,
    choose_library,
    on_a_page,
    ready_media,
    render_tag,
)
from tests.sync_support import SYNC_TEST_SETTINGS, push_now
from tests.testapp.models import CoursePage
from wagtail_kollus import player
from wagtail_kollus.accounts import contents_client, kollus_client
from wagtail_kollus.media import services, tasks
from wagtail_kollus.models import (
    CallbackDelivery,
    DeliveryStatus,
    KollusMedia,
    KollusVideo,
    MediaState,
    VideoSource,
)
from wagtail_kollus.sandbox.config import DEFAULT_CHANNEL_KEY
from wagtail_kollus.sync.engine import sync_page

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.filterwarnings("ignore::jwt.InsecureKeyLengthWarning"),
]


@pytest.fixture
def contents(kollus):
    client = contents_client()
    yield client
    client.close()


@pytest.fixture
def vod(kollus):
    client = kollus_client()
    yield client
    client.close()


# --- the remote side ------------------------------------------------------------------------
def kollus_item(sandbox, title: str, key: str, item_id: int | None = None) -> dict:
    item = {
        "title": title,
        "media_url": f"{sandbox.player_url}/{key}",
        "media_source_type": "kollus",
    }
    return item if item_id is None else {**item, "item_id": item_id}


def create_course(contents, sandbox, keys: list[str], *, language: str = "ko") -> int:
    """A published VOD record with one chapter of Kollus items, one per key."""
    category = next(iter(sandbox.state.categories))
    created = contents.create_content(
        {
            "content_type": "vod",
            "title": "Withdrawn means withdrawn",
            "description_html": "<p>A course.</p>",
            "category_ids": [category],
            "featured_image": "https://img.example.com/course.jpg",
            "status": "publish",
            "language": language,
            "chapters": [
                {
                    "title": "Chapter 1",
                    "items": [
                        kollus_item(sandbox, f"Lesson {n}", key) for n, key in enumerate(keys, 1)
                    ],
                }
            ],
        }
    )
    return created.content_id


def set_items(contents, content_id: int, items: list[dict]) -> None:
    """Send the record's one chapter back with these items (ids kept where given)."""
    record = contents.get_content(content_id)
    chapter = record.chapters[0]
    contents.update_content(
        content_id,
        {"chapters": [{"chapter_id": chapter.chapter_id, "title": chapter.title, "items": items}]},
    )


def pull() -> str:
    out = io.StringIO()
    call_command("kollus_sync", "--pull", "--pause", "0", "--no-progress", stdout=out)
    return out.getvalue()


def process(delivery: CallbackDelivery, capture) -> str:
    with capture(execute=True):
        return tasks.process_callback(delivery.fingerprint)


# --- the local side: choosing, and what viewers get -----------------------------------------
def mirrored_media(capture, upload_file_key: str) -> KollusMedia:
    """A library row for a media the sandbox already has, filled in by a refresh."""
    media = KollusMedia.objects.create(title="Seeded", upload_file_key=upload_file_key)
    with capture(execute=True):
        assert tasks.refresh_media(media.pk) == "refreshed"
    media.refresh_from_db()
    assert media.state == MediaState.READY and media.media_content_key
    return media


# --- chapter items: kollus_sync --pull --------------------------------------------------------
def test_pausing_a_record_withdraws_its_videos_until_it_is_published_again(
    admin_client, client, kollus, contents
):
    keys = [m["key"] for m in ready_media(kollus, 2)]
    content_id = create_course(contents, kollus, keys)
    first, second = contents.get_content(content_id).chapter_items()
    video = choose_item(admin_client, content_id, first.item_id)
    other = choose_item(admin_client, content_id, second.item_id)
    page, reference = on_a_page(video)
    assert_plays(client, page, video, reference, keys[0])

    contents.update_content(content_id, {"status": "paused"})
    out = pull()
    assert_withdrawn(client, page, video, reference)
    assert not KollusVideo.objects.get(pk=other.pk).is_available  # every video of the record
    assert KollusVideo.objects.get(pk=video.pk).content_status == "paused"
    assert "2 withdrawn, 0 playable again" in out

    assert "0 withdrawn, 0 playable again" in pull()  # nothing left to change

    contents.update_content(content_id, {"status": "publish"})
    assert "0 withdrawn, 2 playable again" in pull()
    assert_plays(client, page, video, reference, keys[0])


@pytest.mark.parametrize("status", ["pending", "in_review", "banned"])
def test_only_a_published_record_plays(admin_client, kollus, contents, status):
    keys = [m["key"] for m in ready_media(kollus, 1)]
    content_id = create_course(contents, kollus, keys)
    item = contents.get_content(content_id).chapter_items()[0]
    video = choose_item(admin_client, content_id, item.item_id)
    contents.update_content(content_id, {"status": status})
    pull()
    assert not KollusVideo.objects.get(pk=video.pk).is_available


def test_an_item_removed_from_its_record_is_withdrawn_and_the_others_keep_playing(
    admin_client, client, kollus, contents
):
    keys = [m["key"] for m in ready_media(kollus, 2)]
    content_id = create_course(contents, kollus, keys)
    kept, removed = contents.get_content(content_id).chapter_items()
    kept_video = choose_item(admin_client, content_id, kept.item_id)
    removed_video = choose_item(admin_client, content_id, removed.item_id)
    page, reference = on_a_page(removed_video)
    kept_page, kept_reference = on_a_page(kept_video)

    set_items(contents, content_id, [kollus_item(kollus, "Lesson 1", keys[0], kept.item_id)])
    pull()

    assert_withdrawn(client, page, removed_video, reference)
    assert_plays(client, kept_page, kept_video, kept_reference, keys[0])


def test_an_item_that_stops_playing_through_kollus_is_withdrawn(
    admin_client, client, kollus, contents
):
    keys = [m["key"] for m in ready_media(kollus, 1)]
    content_id = create_course(contents, kollus, keys)
    item = contents.get_content(content_id).chapter_items()[0]
    video = choose_item(admin_client, content_id, item.item_id)
    page, reference = on_a_page(video)

    youtube = {"item_id": item.item_id, "title": "Now on YouTube",
               "media_url": "https://www.youtube.com/watch?v=x", "media_source_type": "youtube"}  # fmt: skip
    set_items(contents, content_id, [youtube])
    pull()

    assert_withdrawn(client, page, video, reference)
    assert KollusVideo.objects.get(pk=video.pk).media_content_key == keys[0]  # kept, unplayed


def test_a_changed_key_is_taken_over_with_its_library_media(
    admin_client, client, kollus, contents, django_capture_on_commit_callbacks
):
    old, new = ready_media(kollus, 2)
    content_id = create_course(contents, kollus, [old["key"]])
    item = contents.get_content(content_id).chapter_items()[0]
    video = choose_item(admin_client, content_id, item.item_id)
    assert video.media is None  # the site has no library row for the old key
    page, old_reference = on_a_page(video)
    media = mirrored_media(django_capture_on_commit_callbacks, new["upload_file_key"])

    set_items(contents, content_id, [kollus_item(kollus, "Lesson 1", new["key"], item.item_id)])
    out = pull()

    assert "1 with a new media content key" in out
    row = KollusVideo.objects.get(pk=video.pk)
    assert row.media_content_key == new["key"] and row.media == media and row.is_available
    # What is rendered now names the new key; a page cached before names the old one
    # (refusing that reference is the token endpoint's rule, tested with it).
    assert_plays(client, page, video, cache_safe_reference(video), new["key"])
    assert player.load_reference(old_reference).media_content_key == old["key"]


def test_a_record_deleted_remotely_withdraws_its_videos(admin_client, client, kollus, contents):
    keys = [m["key"] for m in ready_media(kollus, 1)]
    content_id = create_course(contents, kollus, keys)
    item = contents.get_content(content_id).chapter_items()[0]
    video = choose_item(admin_client, content_id, item.item_id)
    page, reference = on_a_page(video)

    deleted = requests.delete(f"{kollus.base_url}/_sandbox/contents/{content_id}", timeout=5)
    assert deleted.status_code == 200
    out = pull()

    assert_withdrawn(client, page, video, reference)
    assert "1 withdrawn" in out
    # Read directly, once, because the listing did not contain it.
    gets = [e for e in kollus.requests if e["endpoint"] == "contents.get"]
    assert [e["path"].rsplit("/", 1)[-1] for e in gets[-1:]] == [str(content_id)]


def test_a_record_listed_only_in_another_language_is_not_mistaken_for_a_deleted_one(
    admin_client, client, kollus, contents
):
    keys = [m["key"] for m in ready_media(kollus, 1)]
    content_id = create_course(contents, kollus, keys, language="en")
    item = contents.get_content(content_id, language="en").chapter_items()[0]
    video = choose_item(admin_client, content_id, item.item_id, language="en")
    page, reference = on_a_page(video)

    pull()  # lists "ko": the record is not in it
    assert_plays(client, page, video, reference, keys[0])

    contents.update_content(content_id, {"status": "paused"})
    pull()
    assert_withdrawn(client, page, video, reference)


def test_a_pull_that_fails_halfway_withdraws_nothing(admin_client, kollus, contents):
    keys = [m["key"] for m in ready_media(kollus, 1)]
    content_id = create_course(contents, kollus, keys)
    item = contents.get_content(content_id).chapter_items()[0]
    video = choose_item(admin_client, content_id, item.item_id)
    requests.delete(f"{kollus.base_url}/_sandbox/contents/{content_id}", timeout=5)
    kollus.faults.set("contents.list", status=503)  # the listing never completes
    reads_before = kollus.request_count("contents.get")

    with pytest.raises(CommandError):
        pull()

    assert KollusVideo.objects.get(pk=video.pk).is_available
    assert kollus.request_count("contents.get") == reads_before  # no record taken for gone


def test_choosing_an_item_of_a_record_that_is_not_published_does_not_play_it(
    admin_client, client, kollus, contents
):
    keys = [m["key"] for m in ready_media(kollus, 1)]
    content_id = create_course(contents, kollus, keys)
    contents.update_content(content_id, {"status": "pending"})
    item = contents.get_content(content_id).chapter_items()[0]

    video = choose_item(admin_client, content_id, item.item_id)
    page = make_page([video_block_data(video)])
    assert not KollusVideo.objects.get(pk=video.pk).is_available
    assert "data-kollus-unavailable" in client.get(page.url).content.decode()
    assert "kollus-player--unavailable" in render_tag(video, cache_safe="True")  # no reference

    contents.update_content(content_id, {"status": "publish"})
    pull()
    assert_plays(client, page, video, cache_safe_reference(video), keys[0])


# --- library media: callbacks and refresh ---------------------------------------------------
def test_a_library_video_removed_from_the_channel_is_withdrawn_until_it_is_back(
    admin_client, client, kollus, vod, django_capture_on_commit_callbacks
):
    seeded = ready_media(kollus, 1)[0]
    ufk = seeded["upload_file_key"]
    media = mirrored_media(django_capture_on_commit_callbacks, ufk)
    video = choose_library(admin_client, media)
    assert video.source == VideoSource.LIBRARY
    page, reference = on_a_page(video)
    assert_plays(client, page, video, reference, seeded["key"])

    vod.detach_from_channel(DEFAULT_CHANNEL_KEY, ufk)  # in the console: a channel-delete callback
    delete = deliver("channel_delete", upload_file_key=ufk, channel_key=DEFAULT_CHANNEL_KEY,
                     media_content_key=seeded["key"], update_type="delete")  # fmt: skip
    assert process(delete, django_capture_on_commit_callbacks) == "processed"
    assert_withdrawn(client, page, video, reference)

    vod.attach_to_channel(DEFAULT_CHANNEL_KEY, ufk)  # back, under a new key
    new_key = next(
        c["media_content_key"]
        for c in kollus.state.media[ufk]["channels"]
        if c["channel_key"] == DEFAULT_CHANNEL_KEY
    )
    add = deliver("channel_add", upload_file_key=ufk, channel_key=DEFAULT_CHANNEL_KEY,
                  media_content_key=new_key, update_type="add")  # fmt: skip
    assert process(add, django_capture_on_commit_callbacks) == "processed"
    assert_plays(client, page, video, cache_safe_reference(video), new_key)


def test_a_completed_replace_brings_the_videos_in_line_with_what_kollus_answered(
    admin_client, client, kollus, vod, django_capture_on_commit_callbacks
):
    """The replace writes the target's state and keys like any mirror, so its videos follow:
    pages read only the video rows, never the media's state."""
    with kollus.state.lock:
        media = kollus.state.media
        plain = {ufk for ufk, m in media.items() if not m["use_encryption"] and not m["is_audio"]}
    seeds = [m for m in ready_media(kollus, 20) if m["upload_file_key"] in plain]
    target_seed, source_seed = seeds[:2]
    target = mirrored_media(django_capture_on_commit_callbacks, target_seed["upload_file_key"])
    source = mirrored_media(django_capture_on_commit_callbacks, source_seed["upload_file_key"])
    video = choose_library(admin_client, target)
    page, reference = on_a_page(video)
    assert_plays(client, page, video, reference, target_seed["key"])
    KollusMedia.objects.filter(pk=target.pk).update(replacement=source)
    # Meanwhile someone removed the target from the channel in the console (its callback not
    # processed yet): Kollus's answer to the replace has no playback key.
    vod.detach_from_channel(DEFAULT_CHANNEL_KEY, target.upload_file_key)

    with django_capture_on_commit_callbacks(execute=True):
        assert [row.pk for row in services.complete_replacements(source, client=vod)] == [target.pk]

    assert KollusMedia.objects.get(pk=target.pk).media_content_key == ""
    assert_withdrawn(client, page, video, reference)


def test_a_media_deleted_in_the_console_is_withdrawn_at_the_first_callback(
    admin_client, client, kollus, vod, django_capture_on_commit_callbacks
):
    seeded = ready_media(kollus, 1)[0]
    ufk = seeded["upload_file_key"]
    media = mirrored_media(django_capture_on_commit_callbacks, ufk)
    video = choose_library(admin_client, media)
    page, reference = on_a_page(video)

    vod.delete_media(ufk)
    update = deliver("content_update", upload_file_key=ufk, update_type="delete")
    # Kollus may lag behind its callbacks: the delivery is looked at again later, but nothing
    # plays the video meanwhile.
    assert process(update, django_capture_on_commit_callbacks) == "retry scheduled"
    assert_withdrawn(client, page, video, reference)
    assert CallbackDelivery.objects.get(pk=update.pk).status == DeliveryStatus.QUEUED


def test_the_library_refresh_withdraws_a_media_kollus_no_longer_has(
    admin_client, client, kollus, vod, django_capture_on_commit_callbacks
):
    seeded = ready_media(kollus, 1)[0]
    media = mirrored_media(django_capture_on_commit_callbacks, seeded["upload_file_key"])
    video = choose_library(admin_client, media)
    page, reference = on_a_page(video)

    vod.delete_media(seeded["upload_file_key"])
    call_command("kollus_refresh_media", "--ids", str(media.pk), stdout=io.StringIO())

    assert_withdrawn(client, page, video, reference)


def test_a_failed_media_withdraws_its_library_video(
    admin_client, client, kollus, django_capture_on_commit_callbacks
):
    seeded = ready_media(kollus, 1)[0]
    media = mirrored_media(django_capture_on_commit_callbacks, seeded["upload_file_key"])
    video = choose_library(admin_client, media)
    page, reference = on_a_page(video)
    with kollus.state.lock:
        kollus.state.media[seeded["upload_file_key"]]["stage"] = "failed"

    with django_capture_on_commit_callbacks(execute=True):
        tasks.refresh_media(media.pk)

    assert_withdrawn(client, page, video, reference)


def test_deleting_a_used_media_in_the_library_withdraws_its_videos(
    admin_client, client, kollus, django_capture_on_commit_callbacks
):
    seeded = ready_media(kollus, 1)[0]
    media = mirrored_media(django_capture_on_commit_callbacks, seeded["upload_file_key"])
    video = choose_library(admin_client, media)
    page, reference = on_a_page(video)

    url = reverse("kollus_media:delete", args=(media.pk,))
    response = admin_client.post(url, {"confirm": "on"})

    assert response.status_code == 302
    assert_withdrawn(client, page, video, reference)


def test_a_chapter_item_whose_media_leaves_the_channel_waits_for_its_record(
    admin_client, client, kollus, contents, vod, django_capture_on_commit_callbacks
):
    seeded = ready_media(kollus, 1)[0]
    ufk = seeded["upload_file_key"]
    media = mirrored_media(django_capture_on_commit_callbacks, ufk)
    content_id = create_course(contents, kollus, [seeded["key"]])
    item = contents.get_content(content_id).chapter_items()[0]
    video = choose_item(admin_client, content_id, item.item_id)
    assert video.media == media
    page, reference = on_a_page(video)

    vod.detach_from_channel(DEFAULT_CHANNEL_KEY, ufk)
    delete = deliver("channel_delete", upload_file_key=ufk, channel_key=DEFAULT_CHANNEL_KEY,
                     media_content_key=seeded["key"], update_type="delete")  # fmt: skip
    process(delete, django_capture_on_commit_callbacks)
    assert_withdrawn(client, page, video, reference)

    vod.attach_to_channel(DEFAULT_CHANNEL_KEY, ufk)
    add = deliver("channel_add", upload_file_key=ufk, channel_key=DEFAULT_CHANNEL_KEY,
                  media_content_key="new", update_type="add")  # fmt: skip
    process(add, django_capture_on_commit_callbacks)
    new_key = KollusMedia.objects.get(pk=media.pk).media_content_key
    assert new_key and new_key != seeded["key"]
    pull()  # the item still names the key that left the channel
    assert_withdrawn(client, page, video, reference)

    set_items(contents, content_id, [kollus_item(kollus, "Lesson 1", new_key, item.item_id)])
    pull()
    assert_plays(client, page, video, cache_safe_reference(video), new_key)


# --- chapter items: the sync engine's answers -------------------------------------------------
def test_unpublishing_a_synced_page_withdraws_the_videos_chosen_from_its_record(
    admin_client, client, kollus, settings, django_capture_on_commit_callbacks
):
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, **SYNC_TEST_SETTINGS}
    course = make_course()
    link = push_now(course, django_capture_on_commit_callbacks)
    record = contents_client().get_content(link.content_id, language="en")
    item = record.chapter_items()[0]
    video = choose_item(admin_client, link.content_id, item.item_id, language="en")
    assert video.is_available

    with django_capture_on_commit_callbacks(execute=True):
        CoursePage.objects.get(pk=course.pk).unpublish()  # the record is paused
    with django_capture_on_commit_callbacks(execute=True):
        sync_page(course.pk)
    row = KollusVideo.objects.get(pk=video.pk)
    assert row.content_status == "paused" and not row.is_available
