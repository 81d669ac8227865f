"""The player URL's play context as it is written cheaply: not compressed, quoted in pieces.

Contexts issued before (compressed by ``signing.dumps(..., compress=True)`` whenever that was
shorter) are still in players that are playing and reporting progress: they must keep loading
in the play callback and the LMS callback until they expire.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import User
from django.core import signing
from wagtail.models import Page, PageViewRestriction

from tests.play_callback_support import MCKEY, answer, form, post, restrict, viewer_for
from tests.testapp.models import VideoPage
from wagtail_kollus.conf import kollus_settings
from wagtail_kollus.playback.links import build_player_url
from wagtail_kollus.playback.viewer import (
    _PLAY_CONTEXT_SALT,
    load_play_context,
    sign_play_context,
)

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.filterwarnings("ignore::jwt.InsecureKeyLengthWarning"),
]


@pytest.fixture
def lesson():
    course = Page.objects.get(depth=2).add_child(instance=VideoPage(title="Course", slug="c"))
    return course.add_child(instance=VideoPage(title="Lesson 1", slug="lesson-1"))


def issued_compressed(viewer, page, key=MCKEY) -> str:
    """A context as the plugin signed it before it stopped compressing (same fields)."""
    data = {"c": viewer.cuid, "k": key, "u": viewer.user_id, "g": page.pk, "p": page.path}
    value = signing.dumps(data, salt=_PLAY_CONTEXT_SALT, compress=True)
    assert value.startswith("."), "zlib made this one shorter: the compressed form"
    return value


def test_a_context_is_signed_without_compression_and_loads(lesson, member):
    viewer = viewer_for(member, passed=[7, 3])
    value = sign_play_context(viewer, lesson.pk, MCKEY, page_path=lesson.path)
    assert not value.startswith(".")
    loaded = load_play_context(value, cuid=viewer.cuid, media_content_key=MCKEY)
    assert loaded.viewer == viewer
    assert (loaded.page_id, loaded.page_path) == (lesson.pk, lesson.path)


def test_a_compressed_context_issued_before_still_plays(client, lesson, member):
    restrict(lesson, PageViewRestriction.LOGIN)
    context = issued_compressed(viewer_for(member), lesson)
    assert answer(post(client, form(viewer_for(member), lesson, context=context)))["result"] == 1
    # ... and is still checked: another viewer's compressed context is refused.
    theirs = issued_compressed(viewer_for(User.objects.create_user("other")), lesson)
    assert answer(post(client, form(viewer_for(member), lesson, context=theirs)))["result"] == 0


def test_a_compressed_context_issued_before_still_loads_for_the_lms_callback(lesson, member):
    # The LMS callback loads contexts with its own, longer, max age.
    viewer = viewer_for(member)
    loaded = load_play_context(
        issued_compressed(viewer, lesson),
        cuid=viewer.cuid,
        media_content_key=MCKEY,
        max_age=int(kollus_settings.PROGRESS_CONTEXT_MAX_AGE),
    )
    assert (loaded.viewer.user_id, loaded.page_id, loaded.page_path) == (
        member.pk,
        lesson.pk,
        lesson.path,
    )


def test_the_player_url_carries_the_context_as_it_was_signed(lesson, member):
    context = sign_play_context(viewer_for(member), lesson.pk, MCKEY, page_path=lesson.path)
    url = build_player_url(MCKEY, "cuid-1", url_params={"uservalue9": context, "mute": True})
    assert parse_qs(urlsplit(url).query)["uservalue9"] == [context]
    assert "%3A" in url and ":" not in urlsplit(url).query
