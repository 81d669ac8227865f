"""The chosen-video widget: poster, title, details, edit and preview links (server side and
the telepath packing StreamField uses; the browser half is in tests/browser)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests.factories import make_video
from wagtail_kollus.blocks import KollusVideoBlock
from wagtail_kollus.chooser.copying import copy_media_to_video
from wagtail_kollus.chooser.viewsets import kollus_video_chooser_viewset
from wagtail_kollus.models import KollusMedia, MediaState

try:  # Wagtail 8
    from wagtail.admin.telepath import JSContext
except ImportError:  # Wagtail 7
    from wagtail.telepath import JSContext

pytestmark = pytest.mark.django_db

WIDGET_JS = "wagtail_kollus/js/video-chooser-widget.js"


def render(video) -> str:
    widget = kollus_video_chooser_viewset.widget_class()
    return widget.render("video", video.pk if video else None, attrs={"id": "id_video"})


def test_the_chosen_video_shows_its_poster_details_and_preview_link():
    video = make_video(1, duration_seconds=125, thumbnail_url="https://img.example.com/p.jpg")
    html = render(video)
    assert re.search(r'<img[^>]*data-chooser-image[^>]*src="https://img.example.com/p.jpg"', html)
    assert not re.search(r"<img[^>]*data-chooser-image[^>]*hidden", html)
    assert "2:05 · Course 1 · Chapter 1" in html
    preview = reverse("kollus_video_chooser:preview", args=(video.pk,))
    assert re.search(rf'<a data-chooser-preview-link href="{preview}"', html)
    assert "Preview video" in html
    assert "new KollusVideoChooser(" in html  # the widget's own JS class, outside StreamField


def test_without_a_poster_the_widget_shows_the_media_icon():
    html = render(make_video(1, thumbnail_url=""))
    assert re.search(r"<img[^>]*data-chooser-image[^>]*hidden", html)
    assert re.search(r"data-chooser-no-image>", html)


def test_a_library_video_links_to_its_media_and_shows_the_poster_copied_from_it():
    media = KollusMedia.objects.create(
        upload_file_key="ufk-1",
        title="Uploaded",
        media_content_key="mck-1",
        state=MediaState.READY,
        poster_url="https://img.example.com/library.jpg",
    )
    video = copy_media_to_video(media)  # as the upload tab's "Use this video" does
    html = render(video)
    assert 'src="https://img.example.com/library.jpg"' in html
    edit = re.search(r'<a data-chooser-edit-link href="([^"]*)"', html).group(1)
    assert edit == reverse("kollus_media:edit", args=(media.pk,))


def test_the_page_editor_reads_no_media_for_its_chosen_videos(django_assert_num_queries):
    """One query loads a page's videos; the widgets then read nothing more, library or not."""
    media = [
        KollusMedia.objects.create(
            upload_file_key=f"ufk-{n}",
            title=f"Uploaded {n}",
            media_content_key=f"mck-{n}",
            state=MediaState.READY,
            poster_url=f"https://img.example.com/{n}.jpg",
        )
        for n in range(3)
    ]
    videos = [copy_media_to_video(row) for row in media] + [make_video(7)]
    block = KollusVideoBlock().child_blocks["video"]
    widget = kollus_video_chooser_viewset.widget_class()
    with django_assert_num_queries(1):
        loaded = block.bulk_to_python([video.pk for video in videos])
        data = [widget.get_value_data(video) for video in loaded]
    assert [item["edit_url"] for item in data] == [
        reverse("kollus_media:edit", args=(row.pk,)) for row in media
    ] + [""]
    assert [item["preview"]["url"] for item in data[:3]] == [row.poster_url for row in media]


def test_a_chapter_item_has_no_edit_link_to_offer():
    html = render(make_video(1))
    assert re.search(r'<a data-chooser-edit-link href=""[^>]*hidden', html)


def test_streamfield_packs_the_widget_with_its_javascript():
    context = JSContext()
    packed = context.pack(KollusVideoBlock())
    assert "wagtail_kollus.widgets.KollusVideoChooser" in repr(packed)
    scripts = [str(path) for path in context.media._js]
    assert any(WIDGET_JS in path for path in scripts)
    telepath_index = next(i for i, p in enumerate(scripts) if "chooser-widget-telepath" in p)
    ours = next(i for i, p in enumerate(scripts) if WIDGET_JS in p)
    assert telepath_index < ours  # Wagtail's factory exists before ours extends it
