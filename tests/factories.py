"""Rows and pages the tests build, shared by every test module (test modules never import
each other: ``tests/test_test_layout.py`` checks it).

Builders that talk to the sandbox or wait on processes live in the ``*_support`` modules;
fixtures live in ``conftest.py``.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

from wagtail.models import Locale, Page, ReferenceIndex

from tests.testapp.models import CoursePage, VideoPage
from wagtail_kollus.blocks import KollusVideoBlock, KollusVideoValue
from wagtail_kollus.models import (
    CallbackDelivery,
    DailyStatsSnapshot,
    DailyVideoViews,
    KollusMedia,
    KollusVideo,
    VideoSource,
)
from wagtail_kollus.models.callbacks import delivery_fingerprint
from wagtail_kollus.models.stats import day_is_settled_at

#: The content provider key the sandbox answers as (``sandbox.kollus_settings()``).
SANDBOX_ACCOUNT = "sandbox-account"


# --- videos and the pages that show them ------------------------------------------------------
def make_video(n: int = 1, **fields) -> KollusVideo:
    """A chosen chapter item (``n`` makes its ids and keys unique)."""
    values = {
        "content_id": 5000 + n,
        "chapter_id": 100 + n,
        "item_id": 900 + n,
        "language": "ko",
        "title": f"Lesson {n}",
        "content_title": f"Course {n}",
        "chapter_title": "Chapter 1",
        "media_content_key": f"mckey{n:04d}",
        "thumbnail_url": f"https://img.example.com/{n}.jpg",
        "duration_seconds": 60 + n,
    }
    values.update(fields)
    return KollusVideo.objects.create(**values)


def video_block_data(video: KollusVideo | None, **options) -> dict:
    """The StreamField data of one ``video`` block of ``VideoPage.body``."""
    value = {
        "video": video.pk if video else None,
        "autoplay": False,
        "mute": False,
        "start_time": 0,
        "allow_seek": True,
        "disable_playrate": False,
        "title_override": "",
    }
    value.update(options)
    return {"type": "video", "value": value}


def make_page(blocks: list[dict], title: str = "Videos") -> VideoPage:
    """A live ``VideoPage`` under the home page with these StreamField blocks."""
    home_page = Page.objects.get(depth=2)
    page = VideoPage(title=title, slug=title.lower().replace(" ", "-"), body=json.dumps(blocks))
    home_page.add_child(instance=page)
    return page


def struct_value(video: KollusVideo | None, **options) -> KollusVideoValue:
    """The block value a template receives for this video and these options."""
    block = KollusVideoBlock()
    return block.to_python(video_block_data(video, **options)["value"])


def page_using(media: KollusMedia) -> VideoPage:
    """A page showing a library video of ``media``, recorded in Wagtail's reference index."""
    video = KollusVideo.objects.create(
        source=VideoSource.LIBRARY, title=media.title, media=media,
        media_content_key=media.media_content_key,
    )
    home_page = Page.objects.get(depth=2)
    page = home_page.add_child(
        instance=VideoPage(
            title="Uses the video",
            body=json.dumps([{"type": "video", "value": {"video": video.pk}}]),
        )
    )
    ReferenceIndex.create_or_update_for_object(page)
    return page


# --- synced course pages ------------------------------------------------------------------------
def home() -> Page:
    """The tree's root (a transactional test's flush removed what the migrations created)."""
    Locale.objects.get_or_create(language_code="en")
    root = Page.get_first_root_node() or Page.add_root(instance=Page(title="Root"))
    return root


def make_course(title="Python basics", **fields) -> CoursePage:
    """A draft ``CoursePage`` with a heading and one chosen video (override with ``body=``)."""
    video = KollusVideo.objects.create(
        title="Lesson 1", media_content_key="mck-lesson-1", duration_seconds=75
    )
    body = fields.pop(
        "body",
        [
            {"type": "heading", "value": "Getting started"},
            {"type": "video", "value": {"video": video.pk}},
        ],
    )
    page = CoursePage(title=title, intro="<p>Learn Python</p>", body=body, live=False, **fields)
    home().add_child(instance=page)
    return page


def publish(page: CoursePage, **changes) -> CoursePage:
    """Publish a new revision of ``page`` with these field changes."""
    page = CoursePage.objects.get(pk=page.pk)
    for name, value in changes.items():
        setattr(page, name, value)
    page.save_revision().publish()
    return page


# --- callbacks and statistics -------------------------------------------------------------------
def deliver(kind: str, **payload: str) -> CallbackDelivery:
    """A Kollus callback as the endpoint logs it (the endpoint itself: tests/test_callbacks.py)."""
    payload = {"content_provider_key": SANDBOX_ACCOUNT, **payload}
    return CallbackDelivery.objects.create(
        kind=kind,
        fingerprint=delivery_fingerprint(kind, payload),
        upload_file_key=payload["upload_file_key"],
        payload=payload,
    )


def store_snapshot(day: date, *, visitors: int, views: dict[str, int], final: bool = True):
    """A snapshot as the schedule would have stored it (final: recorded after the lag)."""
    recorded = day_is_settled_at(day) + timedelta(hours=1) if final else datetime.now(UTC)
    DailyStatsSnapshot.objects.update_or_create(
        date=day,
        defaults={
            "unique_visitors": visitors,
            "transfer_bytes": visitors * 1000,
            "recorded_at": recorded,
            "videos_recorded_at": recorded,
        },
    )
    DailyVideoViews.objects.filter(date=day).delete()
    for key, count in views.items():
        DailyVideoViews.objects.create(date=day, upload_file_key=key, title=key, views=count)


# --- learner progress (tests/test_progress_reports.py, benchmarks/progress_reports.py) ---------
def make_progress(learner, page, media_content_key: str = "mckey0001", *, percent: int = 50,
                  duration: int = 600, completed: bool = False, days_ago: int = 0, **fields):
    """A ``LearnerProgress`` row: ``percent`` of ``duration`` watched from the start, last
    watched ``days_ago`` days ago (and first watched a day before that)."""
    from wagtail_kollus.models import LearnerProgress

    last = datetime.now(UTC) - timedelta(days=days_ago)
    watched = duration * percent // 100
    values = {
        "learner": learner,
        "page": page,
        "media_content_key": media_content_key,
        "watched_intervals": [[0, watched]] if watched else [],
        "watched_seconds": watched,
        "duration": duration,
        "percent": percent,
        "last_position": watched,
        "first_watched_at": last - timedelta(days=1),
        "last_watched_at": last,
        "completed_at": last if completed else None,
    }
    values.update(fields)
    return LearnerProgress.objects.create(**values)


def editor_speaking(client, django_user_model, language: str):
    """``client`` logged in as a superuser whose admin language is ``language``."""
    from wagtail.users.models import UserProfile

    user = django_user_model.objects.create_superuser(f"editor-{language}", "e@example.com", "pw")
    profile = UserProfile.get_for_user(user)
    profile.preferred_language = language
    profile.save()
    client.force_login(user)
    return client
