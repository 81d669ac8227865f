"""Writers of ``is_available`` lock the media they read it from, so a concurrent mirror of that
media cannot commit in between (pages trust ``is_available`` and never read the media).

Real transactions in two threads, each with its own connection: a "callback" holds the media
row as ``mirror_from_remote`` does (``SELECT … FOR UPDATE``), changes its state and applies it
to the videos; meanwhile the chooser or a pull computes ``is_available`` from that media. They
must wait for the callback's commit and use what it wrote. (On SQLite every write transaction
waits for the other anyway; on PostgreSQL only the row lock makes them wait.)
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection, transaction

from wagtail_kollus.api.types import Content
from wagtail_kollus.availability import apply_content, apply_media
from wagtail_kollus.chooser.copying import copy_media_to_video
from wagtail_kollus.models import KollusMedia, KollusVideo, MediaState, VideoSource

pytestmark = pytest.mark.django_db(transaction=True)

WAIT = 5.0  # seconds a step may take on a busy machine before the test gives up


def in_thread(work: Callable[[], object]) -> threading.Thread:
    def run() -> None:
        try:
            work()
        finally:
            connection.close()  # this thread's own connection

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def callback_deleting(media: KollusMedia, locked: threading.Event, go: threading.Event) -> None:
    """What mirroring a deleted media does, holding the row until ``go``."""
    with transaction.atomic():
        row = KollusMedia.objects.select_for_update().get(pk=media.pk)
        locked.set()
        assert go.wait(WAIT)
        row.state = MediaState.DELETED
        row.save()
        apply_media(row)


def ready_media() -> KollusMedia:
    return KollusMedia.objects.create(
        title="m", upload_file_key="ufk-locks", media_content_key="mck-locks", state="ready"
    )


def test_choosing_a_media_that_a_callback_is_deleting_waits_and_does_not_play_it():
    media = ready_media()
    read_by_the_view = KollusMedia.objects.get(pk=media.pk)  # ready, as the chooser saw it
    locked, go = threading.Event(), threading.Event()
    callback = in_thread(lambda: callback_deleting(media, locked, go))
    assert locked.wait(WAIT)

    chooser = in_thread(lambda: copy_media_to_video(read_by_the_view))
    chooser.join(0.5)
    assert chooser.is_alive()  # waiting for the callback's commit
    go.set()
    callback.join(WAIT)
    chooser.join(WAIT)

    video = KollusVideo.objects.get(source=VideoSource.LIBRARY, media=media)
    assert not video.is_available and not video.is_playable


def test_a_pull_waits_for_a_callback_holding_the_media_and_uses_what_it_wrote():
    media = ready_media()
    video = KollusVideo.objects.create(
        content_id=41, item_id=9, language="ko", title="Lesson", media=media,
        media_content_key="mck-locks", is_available=False,  # the record was paused
    )  # fmt: skip
    published = Content.from_api(
        {
            "content_id": 41,
            "title": "Course",
            "status": "publish",
            "chapters": [
                {
                    "chapter_id": 1,
                    "title": "Chapter",
                    "items": [
                        {
                            "item_id": 9,
                            "title": "Lesson",
                            "media_url": "https://v.kr.kollus.com/mck-locks",
                            "media_source_type": "kollus",
                        }
                    ],
                }
            ],
        }
    )
    assert published.chapters[0].items[0].kollus_media_content_key == "mck-locks"
    locked, go = threading.Event(), threading.Event()
    callback = in_thread(lambda: callback_deleting(media, locked, go))
    assert locked.wait(WAIT)

    pull = in_thread(lambda: apply_content(published))
    pull.join(0.5)
    assert pull.is_alive()  # waiting for the callback's commit
    go.set()
    callback.join(WAIT)
    pull.join(WAIT)

    video.refresh_from_db()
    assert not video.is_available  # published, but its media is deleted
