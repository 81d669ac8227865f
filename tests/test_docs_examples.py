"""The code examples of the docs run against the real code.

A fenced block whose first line is ``# test: <name>`` (Python) or ``{# test: <name> #}`` (a
Django template) is extracted here by name and executed, so an API change that would make an
example wrong fails this file instead of misleading a reader. (Extracting them:
``tests/docs_support.py``.)
"""

from __future__ import annotations

from types import ModuleType, SimpleNamespace

import pytest
from django.contrib.auth.models import AnonymousUser
from django.template import Context, Template
from django.test import RequestFactory

from tests.docs_support import example, marked_examples, run_example
from tests.testapp.models import VideoPage
from wagtail_kollus.models import KollusMedia, MediaState
from wagtail_kollus.playback.viewer import user_viewer_id


def test_every_marked_example_is_tested():
    """A new marked example must be added here, or it would silently go untested."""
    tested = {
        "extending.md": {
            "extending-block",
            "extending-block-template",
            "extending-player-template",
            "extending-mapping",
            "extending-cuid",
            "extending-resolver",
        },
        "signals.md": {"signals-sync", "signals-media"},
        "api-clients.md": {"api-clients-account"},
        "testing.md": {"testing-page", "testing-processes"},
        "deployment.md": {
            "deployment-q-cluster-orm",
            "deployment-q-cluster-redis",
            "deployment-sweep-schedule",
            "deployment-real-ip",
            "deployment-sqlite",
        },
    }
    for page, names in tested.items():
        assert set(marked_examples(page)) == names, page


# --- api-clients.md -----------------------------------------------------------------------------


def test_the_account_example_builds_a_client_of_the_overridden_account(settings):
    settings.WAGTAIL_KOLLUS = {"KOLLUS_ACCESS_TOKEN": "token-123456", "KOLLUS_CHANNEL_KEY": "main"}
    names = run_example("api-clients.md", "api-clients-account")
    assert names["account"].kollus_channel_key == "main"
    assert names["other"].kollus_channel_key == "archive"
    assert names["other"].kollus_access_token == "token-123456"
    assert names["kollus"].http.timeout[1] == 60
    assert "token-123456" not in repr(names["other"])


# --- extending.md ------------------------------------------------------------------------------


@pytest.fixture
def video(db):
    from wagtail_kollus.models import KollusVideo

    return KollusVideo.objects.create(
        content_id=4321,
        chapter_id=12,
        item_id=57,
        language="ko",
        title="2-1. Brushes",
        content_title="Photoshop basics",
        media_content_key="AbCd1234",
        duration_seconds=398,
    )


def lesson_value(block, video, **options):
    data = {
        "video": video.pk,
        "autoplay": False,
        "mute": False,
        "start_time": 0,
        "allow_seek": True,
        "disable_playrate": False,
        "title_override": "",
        "preview_seconds": None,
        "transcript": "",
    }
    data.update(options)
    return block.to_python(data)


def test_block_subclass_signs_its_option_and_extends_the_api_output(video):
    from wagtail_kollus.playback import build_payload, playable_from

    names = run_example("extending.md", "extending-block")
    block = names["LessonVideoBlock"]()
    value = lesson_value(block, video, preview_seconds="120", transcript="Hello")

    assert isinstance(value, names["LessonVideoValue"])
    assert block.meta.template == "lessons/blocks/lesson_video.html"
    # The option reaches the signed token as the JSON integer Kollus expects.
    playable = playable_from(value)
    claims = build_payload(playable.media_content_key, "user-1", mc_options=playable.mc_options)
    assert claims["mc"][0]["seekable_end"] == 120
    assert claims["mc"][0]["mckey"] == "AbCd1234"

    api = block.get_api_representation(value)
    assert api["has_transcript"] is True
    assert api["player"]["reference"]  # the parent's output is kept
    assert "seekable_end" not in lesson_value(block, video).mc_options()


def test_block_template_example_renders_a_player_and_the_placeholder(video, rf):
    from wagtail_kollus.blocks import KollusVideoBlock

    template = Template(example("extending.md", "extending-block-template"))
    block = KollusVideoBlock()
    request = rf.get("/")
    request.user = AnonymousUser()
    request.session = {}

    html = template.render(Context({"value": lesson_value(block, video), "request": request}))
    assert '<figure class="lesson-video">' in html
    assert "lesson-video__player" in html and "2-1. Brushes</figcaption>" in html

    video.is_available = False
    video.save()
    html = template.render(Context({"value": lesson_value(block, video), "request": request}))
    assert "data-kollus-unavailable" in html and "<figure" not in html


def test_player_template_example_renders_both_modes(video, settings, tmp_path, rf):
    """The documented template plays in both modes (cache-safe through player.js's contract)."""
    from django.contrib.auth.models import AnonymousUser

    (tmp_path / "lessons").mkdir()
    (tmp_path / "lessons" / "player.html").write_text(
        example("extending.md", "extending-player-template")
    )
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}
    ]
    request = rf.get("/")
    request.user = AnonymousUser()
    request.session = {}
    template = Template(
        "{% load kollus %}{% kollus_player video cache_safe=safe template='lessons/player.html' %}"
    )
    html = template.render(Context({"video": video, "request": request, "safe": False}))
    assert 'class="lesson-player__frame" src="' in html and "jwt=" in html
    assert 'title="2-1. Brushes"' in html and "style=" not in html
    html = template.render(Context({"video": video, "request": request, "safe": True}))
    assert 'data-kollus-player data-kollus-reference="' in html and "jwt=" not in html
    assert 'data-kollus-token-url="/kollus/player/token/"' in html
    assert '<script src="/static/wagtail_kollus/js/player.js" defer>' in html


def test_mapping_example_registers_and_builds_the_payload(db):
    from tests.testapp import models as testapp_models
    from wagtail_kollus.sync.registry import _registry, get_mapping

    CoursePage = testapp_models.CoursePage
    previous = get_mapping(CoursePage)
    try:
        names = run_example("extending.md", "extending-mapping", courses=ModuleType("courses"),
                            **{"courses.models": testapp_models})
        mapping = get_mapping(CoursePage)
        assert isinstance(mapping, names["CourseMapping"])
        page = CoursePage(title="Course", seo_title="Course (SEO)", intro="<p>Hi</p>",
                          base_price=12000, body=[])
        payload = mapping.build_payload(page)
        assert payload["title"] == "Course (SEO)"
        assert payload["base_price"] == 12000
        assert payload["description_html"] == "<p>Hi</p>"
        assert payload["status"] == "publish"
    finally:
        _registry[CoursePage] = previous


def test_cuid_example_is_used_by_the_resolver(settings):
    from wagtail_kollus.playback import resolve_cuid

    member_cuid = run_example("extending.md", "extending-cuid")["member_cuid"]
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "CUID_RESOLVER": member_cuid}
    request = RequestFactory().get("/")

    request.user = SimpleNamespace(is_authenticated=True, pk=7, member=SimpleNamespace(number=42))
    assert resolve_cuid(request) == "member-42"
    # No member: "" falls back to the default resolver.
    request.user = SimpleNamespace(is_authenticated=True, pk=7, member=None)
    assert resolve_cuid(request) == user_viewer_id(7)


def test_resolver_example_holds():
    run_example("extending.md", "extending-resolver")  # its asserts are the test


# --- signals.md -------------------------------------------------------------------------------


def test_signal_receiver_examples_match_the_signal_arguments(db):
    """The receivers connect, and accept exactly what the senders pass."""
    from wagtail_kollus import signals
    from wagtail_kollus.models import KollusMedia, PageContentLink

    sync = run_example("signals.md", "signals-sync")
    try:
        # The keyword arguments engine._send_synced / _send_failed pass.
        signals.content_synced.send(sender=PageContentLink, link=None, page_id=3, content_id=9,
                                    action="create", fields=["title"])
        signals.sync_failed.send(sender=PageContentLink, link=None, page_id=3, content_id=None,
                                 error={"error": "ValidationError", "message": "No.",
                                        "status_code": 422, "field_errors": {}},
                                 retryable=False)
    finally:
        signals.content_synced.disconnect(sync["remember_record"])
        signals.sync_failed.disconnect(sync["alert_on_failure"])

    from django_q.models import OrmQ

    media = run_example("signals.md", "signals-media")
    try:
        row = KollusMedia.objects.create(title="Clip", upload_file_key="ufk-1")
        signals.video_ready.send(sender=KollusMedia, instance=row)
        signals.video_deleted.send(sender=KollusMedia, instance=row)
        # The receiver really queued its task on the (ORM) broker.
        queued = [(job.task["func"], job.task["args"]) for job in OrmQ.objects.all()]
        assert queued == [("myapp.tasks.tell_uploader", (row.pk,))]
    finally:
        signals.video_ready.disconnect(media["announce_ready"])
        signals.video_deleted.disconnect(media["forget_video"])


# --- deployment.md ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["deployment-q-cluster-orm", "deployment-q-cluster-redis"])
def test_q_cluster_examples_are_valid_for_django_q2_and_the_leases(name):
    """django-q2 accepts them (retry > timeout), and they keep timeout < lease ≤ retry."""
    from wagtail_kollus.conf import DEFAULTS

    q_cluster = run_example("deployment.md", name)["Q_CLUSTER"]
    for lease in ("SYNC_CLAIM_SECONDS", "CALLBACK_CLAIM_SECONDS"):
        assert q_cluster["timeout"] < DEFAULTS[lease] <= q_cluster["retry"], lease
    assert q_cluster["workers"] >= 2
    assert ("orm" in q_cluster) != ("redis" in q_cluster)


def test_sqlite_example_is_what_the_sqlite_check_asks_for(tmp_path):
    from wagtail_kollus.checks import SQLITE_OPTIONS, sqlite_cluster_warnings

    databases = run_example("deployment.md", "deployment-sqlite", names={"BASE_DIR": tmp_path})
    databases = databases["DATABASES"]
    assert databases["default"]["OPTIONS"] == SQLITE_OPTIONS
    q_cluster = run_example("deployment.md", "deployment-q-cluster-orm")["Q_CLUSTER"]
    assert not sqlite_cluster_warnings(databases, q_cluster)
    without = {"default": {**databases["default"], "OPTIONS": {}}}
    assert sqlite_cluster_warnings(without, q_cluster)


def test_sweep_schedule_example_creates_one_schedule_of_a_real_task(db):
    from django.utils.module_loading import import_string
    from django_q.models import Schedule

    run_example("deployment.md", "deployment-sweep-schedule")
    run_example("deployment.md", "deployment-sweep-schedule")  # idempotent, as it says
    (schedule,) = Schedule.objects.all()
    assert schedule.name == "wagtail_kollus: sweep"
    assert schedule.schedule_type == Schedule.MINUTES and schedule.minutes == 1
    assert callable(import_string(schedule.func))


def test_real_ip_middleware_example_trusts_only_the_proxy():
    names = run_example("deployment.md", "deployment-real-ip")
    seen = []
    middleware = names["RealIPMiddleware"](lambda request: seen.append(request.META["REMOTE_ADDR"]))
    factory = RequestFactory()

    middleware(factory.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9"))
    # A client talking to the site directly cannot choose its address with the header.
    middleware(factory.get("/", REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="203.0.113.9"))
    assert seen == ["203.0.113.9", "198.51.100.7"]


# --- testing.md -------------------------------------------------------------------------------
def lessons_app() -> dict[str, ModuleType]:
    """The reader's ``lessons`` app: its ``LessonPage`` is the test app's ``VideoPage``."""
    models = ModuleType("lessons.models")
    models.LessonPage = VideoPage
    return {"lessons": ModuleType("lessons"), "lessons.models": models}


@pytest.mark.django_db
def test_the_page_example_plays_a_ready_video(client, sandbox):
    names = run_example("testing.md", "testing-page", **lessons_app())
    names["test_a_lesson_plays_its_video"](client, sandbox)  # its asserts are the test
    assert VideoPage.objects.filter(title="Welcome").exists()


@pytest.mark.cluster
@pytest.mark.django_db(transaction=True)
def test_the_processes_example_makes_an_upload_ready(sandbox, settings, live_server):
    names = run_example("testing.md", "testing-processes")
    names["test_an_upload_becomes_ready"](sandbox, settings, live_server)
    assert KollusMedia.objects.filter(state=MediaState.READY).exists()
