"""The chooser's "Upload" tab and its "Use this video" endpoint, through Django's test client.

The listing and the upload ticket talk real HTTP to the sandbox (contents API and Kollus).
"""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.cache import caches
from django.urls import reverse

from wagtail_kollus.availability import apply_media
from wagtail_kollus.models import KollusMedia, KollusVideo, MediaState, VideoSource
from wagtail_kollus.signals import video_ready

pytestmark = pytest.mark.django_db

CHOOSE = "kollus_video_chooser:choose"
CHOSEN_LIBRARY = "kollus_video_chooser:chosen_library"
SECRETS = ("sandbox-access-token", "sandbox-security-key", "sandbox-custom-key", "sandbox-account")


@pytest.fixture(autouse=True)
def kollus(sandbox, settings):
    settings.WAGTAIL_KOLLUS = sandbox.kollus_settings(
        KOLLUS_RATE_LIMIT_PER_SECOND=100, KOLLUS_RATE_LIMIT_PER_MINUTE=6000
    )
    caches["default"].clear()
    yield sandbox
    caches["default"].clear()


def logged_in(django_user_model, client, *codenames: str):
    user = django_user_model.objects.create_user("editor", "e@example.com", "pw")
    group = Group.objects.create(name="Kollus chooser test editors")
    for codename in ("access_admin", *codenames):
        group.permissions.add(Permission.objects.get(codename=codename))
    user.groups.add(group)
    client.force_login(user)
    return client


def modal(response) -> dict:
    assert response.status_code == 200, response.content[:500]
    return json.loads(response.content)


def uploaded_media(client) -> KollusMedia:
    """A real upload ticket from the sandbox: the row the upload form creates, still uploading."""
    response = client.post(
        reverse("kollus_media:upload_ticket"),
        {"file_name": "lesson.mp4", "file_size": "1234", "title": "Fresh lesson"},
    )
    assert response.status_code == 200, response.content[:500]
    return KollusMedia.objects.get(pk=response.json()["id"])


def choose_library(client, media_id, **params) -> dict:
    return modal(client.get(reverse(CHOSEN_LIBRARY), {"media": media_id, **params}))


def test_the_upload_tab_is_offered_to_uploaders(django_user_model, client):
    editor = logged_in(django_user_model, client, "add_kollusmedia")
    html = modal(editor.get(reverse(CHOOSE)))["html"]
    assert 'id="tab-label-create"' in html
    assert ">Upload<" in html.replace("\n", "").replace(" ", "")
    assert "data-kollus-upload" in html
    assert reverse("kollus_media:upload_ticket") in html
    assert f'data-chosen-url="{reverse(CHOSEN_LIBRARY)}"' in html
    assert "data-chooser-modal-choice data-kollus-chooser-use-link" in html
    # The page editor has its own #id_title: the tab's fields must not collide with it.
    assert 'id="id_title"' not in html
    assert 'id="kollus_upload_title"' in html
    for secret in SECRETS:
        assert secret not in html


def test_the_upload_tab_is_hidden_without_the_add_permission(django_user_model, client):
    viewer = logged_in(django_user_model, client, "view_kollusmedia", "change_kollusmedia")
    data = modal(viewer.get(reverse(CHOOSE)))
    assert data["step"] == "choose"
    assert "id=\"search-results\"" in data["html"]  # the listing itself still works
    assert "tab-label-create" not in data["html"]
    assert "data-kollus-upload" not in data["html"]
    # Nor can a hand-made link use the endpoint behind the tab.
    media = KollusMedia.objects.create(title="Someone's", state=MediaState.READY)
    # Wagtail's admin turns PermissionDenied into a redirect to the dashboard.
    refused = viewer.get(reverse(CHOSEN_LIBRARY), {"media": media.pk})
    assert (refused.status_code, refused.get("Location")) == (302, reverse("wagtailadmin_home"))
    assert not KollusVideo.objects.exists()


def test_use_this_video_creates_one_library_video_and_answers_the_chosen_step(admin_client):
    media = uploaded_media(admin_client)
    assert media.state == MediaState.UPLOADING and media.media_content_key == ""

    first = choose_library(admin_client, media.pk)
    video = KollusVideo.objects.get()
    assert video.source == VideoSource.LIBRARY and video.media == media
    assert video.title == "Fresh lesson"
    assert first["step"] == "chosen"
    assert first["result"]["id"] == str(video.pk)
    assert first["result"]["title"] == "Fresh lesson"
    assert "edit_url" in first["result"]
    # Still transcoding: chosen, but the page shows the placeholder until it is ready.
    assert not video.is_playable

    # Choosing the same upload again (another block, another page) reuses the row.
    again = choose_library(admin_client, media.pk, multiple="1")
    assert KollusVideo.objects.count() == 1
    assert again["result"] == [first["result"]]


def test_the_chosen_library_video_plays_once_its_media_is_ready(admin_client):
    media = uploaded_media(admin_client)
    choose_library(admin_client, media.pk)
    media.state = MediaState.READY
    media.media_content_key = "mck-fresh-lesson"
    media.title = "Fresh lesson (final)"
    media.save()
    apply_media(media)  # what the mirror does in the same transaction (the key, playing)
    video_ready.send(sender=KollusMedia, instance=media)  # after its commit (title, poster)

    video = KollusVideo.objects.select_related("media").get()
    assert video.media_content_key == "mck-fresh-lesson"
    assert video.title == "Fresh lesson (final)"
    assert video.is_playable


@pytest.mark.parametrize("state", [MediaState.DELETED, MediaState.FAILED])
def test_use_this_video_refuses_media_that_cannot_play(admin_client, state):
    media = KollusMedia.objects.create(title="Gone", state=state)
    data = choose_library(admin_client, media.pk)
    assert data["step"] == "choose" and data["error"] is True
    assert "cannot be used" in data["html"]
    assert not KollusVideo.objects.exists()


@pytest.mark.parametrize("media", ["999999", "", "not-a-number"])
def test_use_this_video_refuses_unknown_media(admin_client, media):
    response = admin_client.get(reverse(CHOSEN_LIBRARY), {"media": media})
    assert response.status_code == 404
    assert not KollusVideo.objects.exists()


def test_the_upload_tab_shows_a_readable_error_when_kollus_refuses(django_user_model, client, kollus):
    editor = logged_in(django_user_model, client, "add_kollusmedia")
    html = modal(editor.get(reverse(CHOOSE)))["html"]
    ticket_url = reverse("kollus_media:upload_ticket")
    assert ticket_url in html  # the tab's form posts here
    kollus.faults.set("kollus.upload_create_url", status=503, times=10)

    response = editor.post(ticket_url, {"file_name": "lesson.mp4", "file_size": "1234", "title": "Refused"})

    assert response.status_code == 502
    error = response.json()["error"]
    assert error.startswith("Kollus did not give an upload URL: ") and error.endswith("HTTP 503.")
    assert error.count("HTTP 503") == 1
    assert "{" not in error and "UnavailableError" not in error
    for secret in SECRETS:
        assert secret not in response.content.decode()
