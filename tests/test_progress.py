"""Learner progress: the LMS callback through Django's test client, the merge, resume, signals.

Reports are built with ``progress.lms.build_json_data`` — the format the sandbox's player
sends — and signed play contexts as the player URL carries them.
"""

from __future__ import annotations

import json
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from wagtail.models import ReferenceIndex

from tests.factories import make_page, make_video, video_block_data
from wagtail_kollus.models import KollusMedia, LearnerProgress
from wagtail_kollus.playback.markup import render_player
from wagtail_kollus.playback.viewer import Viewer, sign_play_context, user_viewer_id
from wagtail_kollus.progress.intervals import merge_intervals, total_seconds
from wagtail_kollus.progress.lessons import page_progress
from wagtail_kollus.progress.lms import MalformedReport, build_json_data, parse_json_data
from wagtail_kollus.signals import page_completed, progress_updated, video_completed

pytestmark = pytest.mark.django_db

TOKEN = "test-callback-token-0123456789"  # tests/settings.py
DURATION = 600
BLOCKS = 100  # 6 s each


@pytest.fixture
def tracking(settings):
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "PROGRESS_TRACKING": True}


@pytest.fixture
def learner():
    return User.objects.create_user("learner", "l@example.com", "pw")


@pytest.fixture
def course():
    """Two lessons showing the same video; lesson 2 also shows a second one."""
    first = make_video(1, duration_seconds=DURATION)
    second = make_video(2, duration_seconds=DURATION)
    lesson1 = make_page([video_block_data(first)], title="Lesson 1")
    lesson2 = make_page([video_block_data(first), video_block_data(second)], title="Lesson 2")
    for page in (lesson1, lesson2):
        ReferenceIndex.create_or_update_for_object(page)
    return first, second, lesson1, lesson2


@pytest.fixture
def fired():
    """The progress signals received, in order."""
    seen: list[tuple[str, dict]] = []

    def receiver(signal_name):
        def receive(sender, **kwargs):
            seen.append((signal_name, kwargs))

        return receive

    receivers = {
        progress_updated: receiver("progress_updated"),
        video_completed: receiver("video_completed"),
        page_completed: receiver("page_completed"),
    }
    for signal, handler in receivers.items():
        signal.connect(handler, weak=False)
    yield seen
    for signal, handler in receivers.items():
        signal.disconnect(handler)


def report(user, page, key, seconds, *, position=None, at=None, played_key=None, context=None):
    """One LMS callback's form: ``seconds`` = (from, to) watched in this play."""
    played_key = played_key or key
    cuid = user_viewer_id(user.pk) if user else "anon-0123456789abcdef"
    viewer = Viewer(cuid=cuid, user_id=user.pk if user else None)
    if context is None:
        context = sign_play_context(viewer, page.pk, played_key, base_media_content_key=key)
    start, end = seconds
    blocks = set(range(start * BLOCKS // DURATION, end * BLOCKS // DURATION))
    now = int(time.time()) if at is None else at
    return {
        "json_data": build_json_data(
            cuid=cuid,
            media_content_key=played_key,
            uservalues={"uservalue9": context},
            duration=DURATION,
            position=end if position is None else position,
            watched_blocks=blocks,
            block_count=BLOCKS,
            start_at=now - (end - start),
            play_time=end - start,
            reported_at=now,
            player_id="player-1",
        )
    }


def post(client, form, token=TOKEN):
    # The signals go out on commit: run them as the request's own commit would.
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(reverse("wagtail_kollus:callback-progress", args=[token]), form)


def row(user, page, key):
    return LearnerProgress.objects.get(learner=user, page=page, media_content_key=key)


# --- the merge ---------------------------------------------------------------------------------
def test_intervals_merge_without_counting_twice():
    merged = merge_intervals([[0, 60], [120, 180]], [[30, 130], [300, 310], [310, 320]])
    assert merged == [[0, 180], [300, 320]]
    assert total_seconds(merged) == 200
    assert merge_intervals([[5, 5], [9, 3]]) == []


@pytest.mark.parametrize(
    "raw",
    [
        None,
        "",
        "not json",
        "[]",
        json.dumps({"user_info": {}, "content_info": {}}),
        json.dumps({"user_info": {"client_user_id": "x"}, "content_info": {}}),
        json.dumps({"user_info": "x", "content_info": {"media_content_key": "k"}}),
        "[" * 5000,
        "x" * 70_000,
    ],
)
def test_malformed_json_data_is_refused(raw):
    with pytest.raises(MalformedReport):
        parse_json_data(raw)


def test_odd_values_are_dropped_not_trusted():
    data = json.dumps(
        {
            "user_info": {"client_user_id": "u"},
            "content_info": {
                "media_content_key": "k",
                "duration": -5,
                "last_position": "NaN",
                "last_play_at": True,
            },
            "block_info": {"block_count": 10**9, "b0": 1},
            "uservalues": ["not", "a", "dict"],
        }
    )
    parsed = parse_json_data(data)
    assert (parsed.duration, parsed.position, parsed.reported_at) == (None, None, None)
    assert parsed.block_count == 0 and parsed.uservalues == {}


# --- the endpoint ------------------------------------------------------------------------------
def test_a_report_becomes_the_learners_progress_in_two_queries(tracking, client, learner, course):
    video, _second, lesson1, _lesson2 = course
    form = report(learner, lesson1, video.media_content_key, (0, 300))
    with CaptureQueriesContext(connection) as queries:
        response = post(client, form)
    assert response.status_code == 200 and response.content == b"recorded"
    assert len(queries) <= 3
    progress = row(learner, lesson1, video.media_content_key)
    assert progress.watched_intervals == [[0, 300]]
    assert (progress.watched_seconds, progress.percent, progress.last_position) == (300, 50, 300)
    assert progress.completed_at is None


def test_watching_again_and_seeking_back_counts_each_second_once(
    tracking, client, learner, course
):
    video, _second, lesson1, _lesson2 = course
    key = video.media_content_key
    now = int(time.time())
    post(client, report(learner, lesson1, key, (0, 120), at=now - 100))
    post(client, report(learner, lesson1, key, (60, 240), at=now - 50))  # on a second device
    post(client, report(learner, lesson1, key, (0, 30), position=30, at=now))  # seek back
    progress = row(learner, lesson1, key)
    assert progress.watched_intervals == [[0, 240]]
    assert progress.watched_seconds == 240
    assert progress.last_position == 30


def test_a_replayed_or_late_report_changes_nothing(tracking, client, learner, course, fired):
    video, _second, lesson1, _lesson2 = course
    key = video.media_content_key
    now = int(time.time())
    old = report(learner, lesson1, key, (0, 60), at=now - 60)
    post(client, old)
    post(client, report(learner, lesson1, key, (60, 120), at=now))
    before = row(learner, lesson1, key)
    fired.clear()
    assert post(client, old).status_code == 200
    after = row(learner, lesson1, key)
    assert (after.revision, after.last_position, after.watched_intervals) == (
        before.revision,
        120,
        [[0, 120]],
    )
    assert fired == []


def test_forged_altered_and_anonymous_reports_change_nothing(tracking, client, learner, course):
    video, _second, lesson1, lesson2 = course
    key = video.media_content_key
    other = User.objects.create_user("other", "o@example.com", "pw")
    # Another learner's context: the cuid does not match.
    theirs = sign_play_context(
        Viewer(cuid=user_viewer_id(other.pk), user_id=other.pk), lesson1.pk, key
    )
    forged = [
        report(learner, lesson1, key, (0, 60), context="not-signed"),
        report(learner, lesson1, key, (0, 60), context=theirs),
        report(learner, lesson1, key, (0, 60), played_key="another-key")
        | {"json_data": report(learner, lesson1, key, (0, 60))["json_data"].replace(key, "x")},
        report(None, lesson1, key, (0, 60)),
        {"json_data": "{"},
        {},
    ]
    for form in forged:
        assert post(client, form).status_code == 200
    assert post(client, report(learner, lesson1, key, (0, 60)), token="wrong").status_code == 403
    assert client.get(
        reverse("wagtail_kollus:callback-progress", args=[TOKEN])
    ).status_code == 405
    assert not LearnerProgress.objects.exists()


def test_an_expired_context_changes_nothing(tracking, settings, client, learner, course):
    video, _second, lesson1, _lesson2 = course
    form = report(learner, lesson1, video.media_content_key, (0, 60))
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "PROGRESS_CONTEXT_MAX_AGE": -1}
    post(client, form)
    assert not LearnerProgress.objects.exists()


def test_without_tracking_nothing_is_recorded(client, learner, course):
    video, _second, lesson1, _lesson2 = course
    response = post(client, report(learner, lesson1, video.media_content_key, (0, 60)))
    assert response.status_code == 200 and response.content == b"ignored"
    assert not LearnerProgress.objects.exists()


# --- lessons, completion and the signals ------------------------------------------------------
def test_one_video_in_two_lessons_is_two_progresses_and_completion_fires_once(
    tracking, client, learner, course, fired
):
    first, second, lesson1, lesson2 = course
    post(client, report(learner, lesson1, first.media_content_key, (0, 600)))
    assert row(learner, lesson1, first.media_content_key).completed_at is not None
    assert not LearnerProgress.objects.filter(page=lesson2).exists()
    assert [name for name, _ in fired] == ["progress_updated", "video_completed", "page_completed"]
    assert fired[2][1]["page_id"] == lesson1.pk

    fired.clear()
    post(client, report(learner, lesson2, first.media_content_key, (0, 560)))  # 93 %: done
    assert [name for name, _ in fired] == ["progress_updated", "video_completed"]
    post(client, report(learner, lesson2, second.media_content_key, (0, 300)))
    post(client, report(learner, lesson2, second.media_content_key, (300, 600)))
    post(client, report(learner, lesson2, second.media_content_key, (0, 600)))  # again
    names = [name for name, _ in fired]
    assert names.count("video_completed") == 2
    assert names.count("page_completed") == 1
    assert page_progress(learner.pk, lesson2.pk).completed


def test_deleting_the_user_deletes_their_progress(tracking, client, learner, course):
    video, _second, lesson1, _lesson2 = course
    post(client, report(learner, lesson1, video.media_content_key, (0, 60)))
    learner.delete()
    assert not LearnerProgress.objects.exists()


# --- the player: resume, the lesson's key, no-skip ---------------------------------------------
def _player_params(html):
    src = html.split('src="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    return parse_qs(urlsplit(src).query)


def _rendered(rf, user, page, video, **options):
    from tests.factories import struct_value

    request = rf.get("/")
    request.user = user
    request.session = {}
    return render_player(struct_value(video, **options), request=request, page=page)


def test_the_player_resumes_per_lesson(tracking, client, rf, learner, course):
    video, _second, lesson1, lesson2 = course
    post(client, report(learner, lesson1, video.media_content_key, (0, 300)))
    assert _player_params(_rendered(rf, learner, lesson1, video))["t"] == ["300"]
    assert "t" not in _player_params(_rendered(rf, learner, lesson2, video))
    assert "t" not in _player_params(_rendered(rf, learner, lesson1, video, resume=False))


def test_unencrypted_library_media_plays_the_lessons_key(tracking, rf, learner, course):
    video, _second, lesson1, _lesson2 = course
    video.media = KollusMedia.objects.create(
        upload_file_key="ufk-1", title="t", media_content_key=video.media_content_key
    )
    video.save()
    params = _player_params(_rendered(rf, learner, lesson1, video))
    import jwt

    claims = jwt.decode(params["jwt"][0], options={"verify_signature": False})
    assert claims["mc"][0]["mckey"] == f"{video.media_content_key}-{lesson1.pk}"
    video.media.use_encryption = True
    video.media.save()
    params = _player_params(_rendered(rf, learner, lesson1, video))
    claims = jwt.decode(params["jwt"][0], options={"verify_signature": False})
    assert claims["mc"][0]["mckey"] == video.media_content_key


def test_a_no_skip_video_may_be_sought_within_what_was_watched(
    tracking, client, rf, learner, course
):
    video, _second, lesson1, _lesson2 = course
    post(client, report(learner, lesson1, video.media_content_key, (0, 120)))
    params = _player_params(_rendered(rf, learner, lesson1, video, allow_seek=False))
    import jwt

    item = jwt.decode(params["jwt"][0], options={"verify_signature": False})["mc"][0]
    assert item["seek"] is False and item["seekable_end"] == 120


# --- template tags -----------------------------------------------------------------------------
def test_the_template_tags_show_progress_and_what_to_continue(tracking, client, rf, learner, course):
    from django.contrib.auth.models import AnonymousUser
    from django.template import Context, Template

    first, second, lesson1, lesson2 = course
    now = int(time.time())
    post(client, report(learner, lesson2, first.media_content_key, (0, 600), at=now - 10))
    post(client, report(learner, lesson2, second.media_content_key, (0, 245), at=now))
    template = Template(
        "{% load kollus %}{% kollus_progress page as p %}{{ p.percent }}|{{ p.completed }}|"
        "{{ p.resume_time }}|{% kollus_continue_watching 5 as items %}"
        "{% for item in items %}{{ item.page.title }}@{{ item.resume_time }};{% endfor %}"
    )
    request = rf.get("/")
    request.user = learner
    rendered = template.render(Context({"request": request, "page": lesson2}))
    assert rendered == "70|False|4:05|Lesson 2@4:05;"
    request.user = AnonymousUser()
    assert template.render(Context({"request": request, "page": lesson2})) == "0|False|0:00|"


def test_cache_safe_players_resume_from_the_token_endpoint(tracking, client, learner, course):
    from tests.factories import struct_value
    from wagtail_kollus.playback.playable import playable_from
    from wagtail_kollus.playback.references import sign_reference

    video, _second, lesson1, lesson2 = course
    post(client, report(learner, lesson1, video.media_content_key, (0, 300)))
    client.force_login(learner)
    value = struct_value(video)
    for page, start in ((lesson1, ["300"]), (lesson2, None)):
        reference = sign_reference(playable_from(value), page_id=page.pk)
        answer = client.get(reverse("wagtail_kollus:player_token"), {"reference": reference})
        assert answer.status_code == 200
        assert parse_qs(urlsplit(answer.json()["url"]).query).get("t") == start
    no_resume = sign_reference(playable_from(struct_value(video, resume=False)), page_id=lesson1.pk)
    answer = client.get(reverse("wagtail_kollus:player_token"), {"reference": no_resume})
    assert "t" not in parse_qs(urlsplit(answer.json()["url"]).query)


def test_a_row_created_meanwhile_by_another_device_is_merged_into(
    tracking, client, learner, course
):
    """The read found no row, another device inserted it before our insert: ours conflicts,
    changes nothing, and the report is merged into theirs on the next attempt."""
    from wagtail_kollus.progress import store

    video, _second, lesson1, _lesson2 = course
    key = video.media_content_key
    post(client, report(learner, lesson1, key, (0, 60)))
    theirs = row(learner, lesson1, key)
    duplicate = LearnerProgress(
        learner=learner, page=lesson1, media_content_key=key,
        first_watched_at=theirs.first_watched_at, last_watched_at=theirs.last_watched_at,
    )
    assert store._insert_new(duplicate) is False
    assert LearnerProgress.objects.count() == 1
    post(client, report(learner, lesson1, key, (120, 180)))
    assert row(learner, lesson1, key).watched_intervals == [[0, 60], [120, 180]]


def test_continue_watching_names_each_video_read_in_one_go(rf, django_user_model):
    """Two unfinished videos of one page both read as the page's title alone; each item now
    has its video's title (a chosen video's, else the uploaded media's), whatever their
    number for the same queries."""
    from django.contrib.auth.models import AnonymousUser
    from django.template import Context, Template

    from tests.factories import make_progress

    page = make_page([], title="Course")
    make_video(1, title="Welcome")
    KollusMedia.objects.create(title="Uploaded lesson", upload_file_key="ufk-2",
                               media_content_key="mckey0002")
    learner = django_user_model.objects.create_user("learner", "l@example.com", "pw")
    make_progress(learner, page, "mckey0001", percent=10, days_ago=1)
    make_progress(learner, page, "mckey0002", percent=33)
    make_progress(learner, page, "unknown-key", percent=5, days_ago=2)
    template = Template(
        "{% load kollus %}{% kollus_continue_watching 5 as items %}"
        "{% for item in items %}{{ item.page.title }}: {{ item.video_title }};{% endfor %}"
    )
    request = rf.get("/")
    request.user = learner
    with CaptureQueriesContext(connection) as queries:
        rendered = template.render(Context({"request": request}))
    assert rendered == "Course: Uploaded lesson;Course: Welcome;Course: ;"
    for n in range(3, 6):
        make_video(n, title=f"Video {n}")
        make_progress(learner, page, f"mckey{n:04d}", percent=20, days_ago=3)
    with CaptureQueriesContext(connection) as more:
        assert template.render(Context({"request": request})).count(": Video") == 2  # limit 5
    assert len(more) == len(queries)
    request.user = AnonymousUser()
    assert template.render(Context({"request": request})) == ""


def _key_extension_queries(count: int, first: int) -> int:
    videos = []
    for n in range(first, first + count):
        video = make_video(n)
        video.media = KollusMedia.objects.create(
            upload_file_key=f"ufk-{n}", title="t", media_content_key=video.media_content_key
        )
        video.save()
        videos.append(video)
    page = make_page([video_block_data(v) for v in videos], title=f"Lessons {first}")
    with CaptureQueriesContext(connection) as queries:
        body = type(page).objects.get(pk=page.pk).body
        assert all(block.value.allows_key_extension for block in body)
    return len(queries)


def test_a_page_of_library_videos_reads_their_media_in_one_query(tracking):
    # Each block asks whether its media is encrypted (the lesson key extension): the page's
    # media are read together, not once per block.
    assert _key_extension_queries(2, 20) == _key_extension_queries(6, 40)
