"""The sandbox's player reporting to this site's LMS callback over real HTTP: one learner on
two devices, overlapping and seeking, counted once (no browser: the control API opens the
second device from the player URL the page gave)."""

from __future__ import annotations

import html

import pytest
import requests
from django.urls import reverse
from wagtail.models import ReferenceIndex

from tests.factories import make_page, struct_value, video_block_data
from wagtail_kollus.models import KollusVideo, LearnerProgress
from wagtail_kollus.playback.markup import render_player

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore::jwt.InsecureKeyLengthWarning"),
]


@pytest.fixture
def lesson(sandbox, live_server, settings):
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "PROGRESS_TRACKING": True}
    token = settings.WAGTAIL_KOLLUS["CALLBACK_TOKEN"]
    sandbox.set_callback_url(
        "progress",
        live_server.url + reverse("wagtail_kollus:callback-progress", kwargs={"token": token}),
    )
    with sandbox.state.lock:
        media = next(m for m in sandbox.state.media.values() if m["channels"] and m["duration"])
    video = KollusVideo.objects.create(
        title=media["title"], media_content_key=media["channels"][0]["media_content_key"]
    )
    page = make_page([video_block_data(video)], title="Lesson 1")
    ReferenceIndex.create_or_update_for_object(page)
    return video, page, media["duration"]


def player_url(rf, user, page, video):
    request = rf.get("/")
    request.user = user
    request.session = {}
    markup = render_player(struct_value(video), request=request, page=page)
    return html.unescape(markup.split('src="', 1)[1].split('"', 1)[0])


def control(sandbox, path, body=None):
    response = requests.post(f"{sandbox.base_url}/_sandbox/lms/{path}", json=body, timeout=30)
    assert response.status_code in (200, 201), response.text
    return response.json()


def test_two_devices_overlapping_and_seeking_count_each_second_once(
    sandbox, lesson, rf, django_user_model
):
    video, page, duration = lesson
    learner = django_user_model.objects.create_user("learner", "l@example.com", "pw")
    url = player_url(rf, learner, page, video)
    laptop = control(sandbox, "sessions", {"player_url": url, "device": "laptop"})["session"]
    phone = control(sandbox, "sessions", {"player_url": url, "device": "phone"})["session"]
    assert laptop["device"] == "laptop" and phone["id"] != laptop["id"]

    control(sandbox, f"sessions/{laptop['id']}/watch", {"from": 0, "to": 120, "every": 30})
    control(sandbox, f"sessions/{phone['id']}/watch", {"from": 60, "to": 200, "then": "stop"})
    sent = control(sandbox, f"sessions/{laptop['id']}/watch", {"from": 400, "to": 450})["sent"]
    assert sent[0]["event"] == "seek" and sent[-1]["event"] == "pause"

    row = LearnerProgress.objects.get(learner=learner, page=page)
    block = duration / 100
    # Watched: [0, 200) and [400, 450), to the block: never the 310 s the three plays add up to.
    assert 250 - 4 * block <= row.watched_seconds <= 250
    assert len(row.watched_intervals) == 2
    assert row.last_position == 450
    reports = [r for s in requests.get(f"{sandbox.base_url}/_sandbox/lms/sessions", timeout=10)
               .json()["sessions"] for r in s["reports"]]
    assert reports and all(report["status"] == 200 for report in reports)


def test_a_bad_watch_request_is_refused_and_sends_nothing(sandbox, lesson, rf, django_user_model):
    video, page, _duration = lesson
    learner = django_user_model.objects.create_user("learner", "l@example.com", "pw")
    session = control(sandbox, "sessions", {"player_url": player_url(rf, learner, page, video)})
    watch = f"{sandbox.base_url}/_sandbox/lms/sessions/{session['session']['id']}/watch"
    for body in ({"from": 50, "to": 10}, {"to": -1}, {"to": 10, "then": "rewind"}):
        assert requests.post(watch, json=body, timeout=10).status_code == 422
    assert requests.post(
        f"{sandbox.base_url}/_sandbox/lms/sessions/999/watch", json={"to": 5}, timeout=10
    ).status_code == 404
    assert requests.post(
        f"{sandbox.base_url}/_sandbox/lms/sessions", json={"player_url": "x"}, timeout=10
    ).status_code == 403
    assert not LearnerProgress.objects.exists()
