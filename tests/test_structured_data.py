"""schema.org VideoObject JSON-LD: ``{% kollus_video_jsonld %}`` and the block's default markup
(behind BLOCK_STRUCTURED_DATA), read back as a search engine would, hostile titles included."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest
from django.template import engines
from wagtail.models import PageViewRestriction

from tests.factories import make_page, make_video, video_block_data
from tests.headless_support import BUYERS_ONLY
from tests.testapp.models import VideoPage
from wagtail_kollus.models import KollusMedia, MediaState
from wagtail_kollus.structured_data import iso8601_duration

pytestmark = pytest.mark.django_db

HOSTILE = '</script><script>alert("x")</script> <!-- & \u2028 \'q\''


class ScriptReader(HTMLParser):
    """Collects what an HTML parser (a browser, a crawler) sees inside each <script>."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[tuple[dict, str]] = []
        self._open: dict | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self._open = dict(attrs)
            self.scripts.append((self._open, ""))

    def handle_data(self, data):
        if self._open is not None:
            attrs, text = self.scripts[-1]
            self.scripts[-1] = (attrs, text + data)

    def handle_endtag(self, tag):
        if tag == "script":
            self._open = None


def jsonld_in(html: str) -> list[dict]:
    reader = ScriptReader()
    reader.feed(html)
    return [json.loads(text) for attrs, text in reader.scripts
            if attrs.get("type") == "application/ld+json"]


def render_tag(video, page=None, extra=""):
    template = engines["django"].from_string(
        "{% load kollus %}{% kollus_video_jsonld video " + extra + " %}"
    )
    return template.render({"video": video, "page": page})


def page_with(video, **fields) -> VideoPage:
    page = make_page([video_block_data(video)], title="Lesson page")
    for name, value in fields.items():
        setattr(page, name, value)
    page.save()
    return VideoPage.objects.get(pk=page.pk)


@pytest.mark.parametrize("seconds, expected", [
    (0, "PT0S"), (59, "PT59S"), (61, "PT1M1S"), (3600, "PT1H"), (3723, "PT1H2M3S"),
    (7260, "PT2H1M"), (None, None),
])
def test_durations_are_iso_8601(seconds, expected):
    assert iso8601_duration(seconds) == expected


def test_a_public_video_is_described_for_search_engines():
    video = make_video(1, duration_seconds=3723)
    video.created_at = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    video.save()
    page = page_with(video, search_description="Learn the basics.")
    [data] = jsonld_in(render_tag(video, page))
    assert data == {
        "@context": "https://schema.org",
        "@type": "VideoObject",
        "name": "Lesson 1",
        "description": "Learn the basics.",
        "thumbnailUrl": ["https://img.example.com/1.jpg"],
        "uploadDate": "2026-03-04T05:06:07+00:00",
        "duration": "PT1H2M3S",
    }


def test_the_upload_date_is_kolluss_own_when_the_media_is_loaded():
    media = KollusMedia.objects.create(
        title="m", media_content_key="mckey0001", state=MediaState.READY,
        kollus_created_at=datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
    )
    video = make_video(1, media=media)
    [data] = jsonld_in(render_tag(video))
    assert data["uploadDate"] == "2025-01-02T03:04:05+00:00"
    assert data["description"] == "Course 1 / Chapter 1"  # no page: where the video comes from


def test_a_hostile_title_stays_inside_the_json():
    video = make_video(1, title=HOSTILE)
    html = render_tag(video)
    assert html.count("</script>") == 1 and "<!--" not in html
    [data] = jsonld_in(html)
    assert data["name"] == HOSTILE


def test_a_page_only_members_watch_is_marked_as_paywalled():
    video = make_video(1)
    page = page_with(video)
    PageViewRestriction.objects.create(page=page, restriction_type=PageViewRestriction.LOGIN)
    [data] = jsonld_in(render_tag(video, page))
    assert data["isAccessibleForFree"] is False
    assert data["hasPart"] == {
        "@type": "WebPageElement", "isAccessibleForFree": False, "cssSelector": ".kollus-player",
    }
    [data] = jsonld_in(render_tag(video, page, 'css_selector=".lesson-video"'))
    assert data["hasPart"]["cssSelector"] == ".lesson-video"


def test_a_site_policy_that_sells_the_course_marks_it_too(settings):
    settings.WAGTAIL_KOLLUS = {
        **settings.WAGTAIL_KOLLUS, "PLAYBACK_POLICY": BUYERS_ONLY,
    }
    video = make_video(1)
    sold = page_with(video)  # anonymous viewers get a preview only
    assert jsonld_in(render_tag(video, sold))[0]["isAccessibleForFree"] is False
    free = make_page([video_block_data(video)], title="Free taster")
    assert "isAccessibleForFree" not in jsonld_in(render_tag(video, free))[0]


def test_nothing_for_a_video_that_cannot_play():
    assert render_tag(make_video(1, is_available=False)) == ""
    assert render_tag(None) == ""


def test_the_blocks_default_markup_adds_it_only_when_the_setting_says_so(client, settings):
    video = make_video(1, title=HOSTILE)
    page = page_with(video)
    off = client.get(page.url)
    assert off.status_code == 200 and jsonld_in(off.content.decode()) == []
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "BLOCK_STRUCTURED_DATA": True}
    on = client.get(page.url).content.decode()
    [data] = jsonld_in(on)
    assert data["name"] == HOSTILE and data["description"] == "Course 1 / Chapter 1"
    assert "isAccessibleForFree" not in data
    assert "jwt" not in on.split('type="application/ld+json"')[1]  # no player URL in it
