"""Learner progress in headless Chromium: the sandbox's player sends Kollus's LMS callback to
this site over real HTTP while the learner "watches" (the sandbox's control API plays it).

A learner watches half of lesson 1, leaves, comes back and resumes at that second; the same
video in lesson 2 starts at 0 (its own lesson key, its own progress); finishing both marks
each page complete, and the signals fire once each, however many reports follow.
"""

from __future__ import annotations

import pytest
import requests
from django.urls import reverse
from playwright.sync_api import expect
from wagtail.models import Page, ReferenceIndex

from tests.learner_support import signed_in
from wagtail_kollus.models import KollusMedia, KollusVideo, LearnerProgress, VideoSource
from wagtail_kollus.signals import page_completed, progress_updated, video_completed

pytestmark = pytest.mark.filterwarnings("ignore::jwt.InsecureKeyLengthWarning")

FRAME = "iframe.kollus-player__frame"


@pytest.fixture
def lessons(sandbox_live, live_server, transactional_db, settings):
    """Two lesson pages showing one unencrypted library video; the LMS callback 'in the
    console' points at this site."""
    from tests.testapp.models import VideoPage

    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "PROGRESS_TRACKING": True}
    token = settings.WAGTAIL_KOLLUS["CALLBACK_TOKEN"]
    sandbox_live.set_callback_url(
        "progress",
        live_server.url + reverse("wagtail_kollus:callback-progress", kwargs={"token": token}),
    )
    with sandbox_live.state.lock:
        found = next(
            m
            for m in sandbox_live.state.media.values()
            if m["channels"] and not m["use_encryption"] and m["duration"]
        )
        key = found["channels"][0]["media_content_key"]
    media = KollusMedia.objects.create(
        upload_file_key=found["upload_file_key"], title=found["title"], media_content_key=key
    )
    video = KollusVideo.objects.create(
        source=VideoSource.LIBRARY, title=found["title"], media=media, media_content_key=key
    )
    home = Page.objects.get(depth=2)
    pages = []
    for n in (1, 2):
        page = home.add_child(
            instance=VideoPage(
                title=f"Lesson {n}", slug=f"lesson-{n}", body=[("video", {"video": video})]
            )
        )
        ReferenceIndex.create_or_update_for_object(page)
        pages.append(page)
    return video, found["duration"], pages


@pytest.fixture
def fired():
    seen: list[tuple[str, dict]] = []
    handlers = {}
    for name, signal in (
        ("progress_updated", progress_updated),
        ("video_completed", video_completed),
        ("page_completed", page_completed),
    ):
        handlers[signal] = lambda sender, _name=name, **kwargs: seen.append((_name, kwargs))
        signal.connect(handlers[signal], weak=False)
    yield seen
    for signal, handler in handlers.items():
        signal.disconnect(handler)


def open_player(browser_page, url):
    """Open a lesson; its sandbox player (start second, LMS play session, key)."""
    browser_page.goto(url)
    player = browser_page.frame_locator(FRAME).locator("[data-sandbox-player]")
    expect(player).to_have_attribute("data-sandbox-player", "ok")
    return player


def watch(sandbox, player, start, end):
    session = player.get_attribute("data-lms-session")
    response = requests.post(
        f"{sandbox.base_url}/_sandbox/lms/sessions/{session}/watch",
        json={"from": start, "to": end, "every": 60, "then": "pause"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    sent = response.json()["sent"]
    assert sent and all(report["status"] == 200 for report in sent), sent


@pytest.mark.browser
def test_a_learner_resumes_per_lesson_and_completes_both(
    browser, live_server, sandbox_live, lessons, fired, django_user_model
):
    video, duration, (lesson1, lesson2) = lessons
    learner = django_user_model.objects.create_user("learner", "l@example.com", "pw")
    half = duration // 2
    context = signed_in(browser, live_server, learner)
    try:
        tab = context.new_page()
        player = open_player(tab, live_server.url + lesson1.url)
        expect(player).to_have_attribute("data-start", "0")
        # The lesson's own key: Kollus keeps resume and progress apart per lesson too.
        expect(player).to_have_attribute("data-mckey", f"{video.media_content_key}-{lesson1.pk}")
        watch(sandbox_live, player, 0, half)

        tab.goto(live_server.url + "/")  # leaves…
        player = open_player(tab, live_server.url + lesson1.url)  # …and comes back
        expect(player).to_have_attribute("data-start", str(half))
        expect(tab.frame_locator(FRAME).locator(".start")).to_have_text(f"Starts at {half} s.")

        other = open_player(tab, live_server.url + lesson2.url)
        expect(other).to_have_attribute("data-start", "0")
        watch(sandbox_live, other, 0, duration)

        player = open_player(tab, live_server.url + lesson1.url)
        watch(sandbox_live, player, half, duration)
        watch(sandbox_live, player, 0, 30)  # watching again changes no completion
    finally:
        context.close()

    rows = LearnerProgress.objects.filter(learner=learner).order_by("page_id")
    assert [(row.page_id, row.percent >= 90) for row in rows] == [
        (lesson1.pk, True),
        (lesson2.pk, True),
    ]
    completed_pages = [kwargs["page_id"] for name, kwargs in fired if name == "page_completed"]
    assert sorted(completed_pages) == [lesson1.pk, lesson2.pk]
    completed_videos = [kwargs["instance"].page_id for name, kwargs in fired if name == "video_completed"]
    assert sorted(completed_videos) == [lesson1.pk, lesson2.pk]
    assert any(name == "progress_updated" for name, _ in fired)
