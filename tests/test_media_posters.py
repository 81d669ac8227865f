"""Posters: an editor picks one of Kollus's snapshot frames or uploads an image; Kollus (the
sandbox, over real HTTP) takes it and serves it at the media's poster URL, and the library,
the chosen widget, the block's API output and the player show it. Kollus's refusals and
outages are messages, never a 500.
"""

from __future__ import annotations

import html
import io
import re

import pytest
import requests
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from tests.media_support import make_user
from wagtail_kollus.accounts import kollus_client
from wagtail_kollus.api.errors import KollusAPIError
from wagtail_kollus.blocks import KollusVideoBlock
from wagtail_kollus.chooser.widgets import chosen_video_data
from wagtail_kollus.models import KollusMedia, KollusVideo, PosterSource
from wagtail_kollus.testing import ready_video


def image_bytes(kind: str = "PNG", colour: str = "red") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 36), colour).save(buffer, kind)
    return buffer.getvalue()


def upload(name: str = "poster.png", data: bytes | None = None, kind: str = "image/png"):
    return SimpleUploadedFile(name, image_bytes() if data is None else data, content_type=kind)


def messages_of(response) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in response.context["messages"]]


@pytest.fixture
def chosen(kollus, db) -> KollusVideo:
    """A ready library video (mirrored from the sandbox, so Kollus's frames are on its row)."""
    return ready_video(kollus, title="Poster tour")


# --- the client and the sandbox ------------------------------------------------------------


@pytest.mark.django_db
def test_the_client_uploads_a_poster_and_the_sandbox_serves_it_at_the_media_poster_url(chosen):
    ufk = chosen.media.upload_file_key
    png = image_bytes()
    client = kollus_client()
    url = client.upload_poster(ufk, png, filename="p.png", content_type="image/png")
    assert url.endswith("?v=1")
    served = requests.get(url, timeout=5)
    assert served.status_code == 200
    assert served.headers["Content-Type"] == "image/png"
    assert served.content == png
    # The media detail names the same poster from now on (a refresh keeps it).
    assert client.get_media(ufk).poster_url == url


@pytest.mark.django_db
def test_the_sandbox_refuses_a_poster_that_is_not_an_image(chosen):
    with pytest.raises(KollusAPIError) as caught:
        kollus_client().upload_poster(
            chosen.media.upload_file_key, b"<html>", filename="x.png", content_type="image/png"
        )
    assert caught.value.status_code == 422


# --- the poster screen --------------------------------------------------------------------


@pytest.mark.django_db
def test_the_poster_screen_offers_kollus_frames(admin_client, chosen):
    media = chosen.media
    assert len(media.snapshot_frames) == 4  # mirrored from the media detail
    html = admin_client.get(reverse("kollus_media:poster", args=(media.pk,))).content.decode()
    for frame in media.snapshot_frames:
        assert frame["url"].replace("&", "&amp;") in html
    assert 'name="frame"' in html and 'name="image"' in html


@pytest.mark.django_db
def test_picking_a_frame_sets_it_as_poster_everywhere(
    admin_client, chosen, kollus, django_capture_on_commit_callbacks
):
    media = chosen.media
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("kollus_media:poster", args=(media.pk,)), {"frame": 1})
    assert response.status_code == 302
    media.refresh_from_db()
    assert media.poster_source == PosterSource.FRAME
    assert media.poster_url.endswith("?v=1")
    # What Kollus now serves is the frame the editor picked.
    frame = requests.get(media.snapshot_frames[1]["url"], timeout=5).content
    assert requests.get(media.poster_url, timeout=5).content == frame
    # The chosen video copies it: the widget, the block's API output, the player.
    chosen.refresh_from_db()
    assert chosen.thumbnail_url == media.poster_url
    assert chosen_video_data(chosen)["preview"]["url"] == media.poster_url
    block = KollusVideoBlock()
    value = block.to_python({"video": chosen.pk})
    assert block.get_api_representation(value)["poster_url"] == media.poster_url
    # The player (the sandbox's, in the iframe the block renders) shows it as its poster.
    src = html.unescape(re.search(r'<iframe[^>]* src="([^"]+)"', str(block.render(value)))[1])
    player = requests.get(src, timeout=5).text
    assert f"poster='{html.escape(media.poster_url)}'" in player
    library = admin_client.get(reverse("kollus_media:index")).content.decode()
    assert media.poster_url in library


@pytest.mark.django_db
def test_uploading_an_image_sets_it_as_poster(admin_client, chosen, django_capture_on_commit_callbacks):
    media = chosen.media
    png = image_bytes(colour="blue")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("kollus_media:poster", args=(media.pk,)),
            {"image": upload(data=png)},
            follow=True,
        )
    assert ("success", f"The poster of '{media.title}' was changed.") in messages_of(response)
    assert "<b>Raw</b>" in media.title and "<b>Raw</b>" not in response.content.decode()
    media.refresh_from_db()
    assert media.poster_source == PosterSource.UPLOAD
    assert requests.get(media.poster_url, timeout=5).content == png
    chosen.refresh_from_db()
    assert chosen.thumbnail_url == media.poster_url


@pytest.mark.django_db
@pytest.mark.parametrize(
    "data, error",
    [
        ({}, "Choose a frame or upload an image (one of the two)."),
        ({"frame": 0, "image": "both"}, "Choose a frame or upload an image (one of the two)."),
        ({"image": "text"}, "Upload a valid image."),
        ({"image": "gif"}, "The poster must be a JPEG or PNG image."),
        ({"frame": 99}, "Select a valid choice."),
    ],
)
def test_bad_poster_input_is_a_form_error_and_kollus_is_not_called(
    admin_client, chosen, kollus, data, error
):
    files = {
        "both": upload(),
        "text": SimpleUploadedFile("x.png", b"not an image", content_type="image/png"),
        "gif": SimpleUploadedFile("x.gif", image_bytes("GIF"), content_type="image/gif"),
    }
    if "image" in data:
        data = {**data, "image": files[data["image"]]}
    before = KollusMedia.objects.filter(pk=chosen.media_id).values().get()
    calls = kollus.request_count("kollus.upload_poster")
    response = admin_client.post(reverse("kollus_media:poster", args=(chosen.media_id,)), data)
    assert response.status_code == 400
    assert error in response.content.decode()
    assert kollus.request_count("kollus.upload_poster") == calls
    assert KollusMedia.objects.filter(pk=chosen.media_id).values().get() == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    "fault, reason",
    [({"status": 422}, "HTTP 422"), ({"status": 429}, "HTTP 429"), ({"status": 503}, "HTTP 503"),
     ({"reset": True}, "")],
)
def test_kollus_refusing_or_down_is_a_message_and_leaves_the_poster(
    admin_client, chosen, kollus, fault, reason
):
    kollus.faults.set("kollus.upload_poster", times=20, **fault)
    before = KollusMedia.objects.filter(pk=chosen.media_id).values().get()
    response = admin_client.post(
        reverse("kollus_media:poster", args=(chosen.media_id,)), {"image": upload()}
    )
    assert response.status_code == 502
    [(level, text)] = messages_of(response)
    assert level == "error" and text.startswith("Kollus did not take the new poster: ")
    assert reason in text
    html = response.content.decode()
    assert kollus.kollus_settings()["KOLLUS_ACCESS_TOKEN"] not in html + text
    assert KollusMedia.objects.filter(pk=chosen.media_id).values().get() == before


@pytest.mark.django_db
def test_setting_a_poster_needs_the_change_permission(client, django_user_model, chosen):
    viewer = make_user(django_user_model, "viewer", "view_kollusmedia")
    client.force_login(viewer)
    url = reverse("kollus_media:poster", args=(chosen.media_id,))
    assert client.get(url).status_code in (302, 403)
    assert client.post(url, {"frame": 0}).status_code in (302, 403)
    assert KollusMedia.objects.get(pk=chosen.media_id).poster_source == PosterSource.KOLLUS


@pytest.mark.django_db
def test_a_frame_larger_than_the_limit_is_refused_before_it_is_sent(chosen, kollus, monkeypatch):
    from wagtail_kollus.media import posters

    monkeypatch.setattr(posters, "POSTER_MAX_BYTES", 100)  # the sandbox's frames are ~5 KB
    with pytest.raises(KollusAPIError) as caught:
        posters.use_frame(chosen.media, 0)
    assert "larger than 100 bytes" in str(caught.value)
    assert kollus.request_count("kollus.upload_poster") == 0
