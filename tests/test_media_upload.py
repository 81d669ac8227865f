"""The upload endpoints: row first, then a one-time URL; defaults and overrides; failures are
messages; no key or access token in the page. Kollus is the sandbox, over real HTTP.
"""

from __future__ import annotations

import pytest
import requests
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from wagtail_kollus.models import KollusMedia, MediaState

SECRETS = ("sandbox-access-token", "sandbox-security-key", "sandbox-custom-key", "sandbox-account")


@pytest.fixture
def editor(django_user_model, client):
    user = django_user_model.objects.create_user("editor", "e@example.com", "pw")
    group = Group.objects.create(name="Kollus uploaders")
    for codename in ("access_admin", "add_kollusmedia", "view_kollusmedia"):
        group.permissions.add(Permission.objects.get(codename=codename))
    user.groups.add(group)
    client.force_login(user)
    return client


def ticket(client, **data):
    data = {"file_name": "lesson.mp4", "file_size": "1234", **data}
    return client.post(reverse("kollus_media:upload_ticket"), data)


@pytest.mark.django_db
def test_ticket_creates_the_row_then_asks_kollus(admin_client, kollus):
    response = ticket(admin_client, title="Lesson")
    assert response.status_code == 200
    body = response.json()
    media = KollusMedia.objects.get(pk=body["id"])
    assert media.state == MediaState.UPLOADING
    assert media.title == "Lesson"
    assert media.original_file_name == "lesson.mp4" and media.original_file_size == 1234
    assert media.upload_file_key == body["upload_file_key"]
    assert body["upload_url"].startswith(kollus.upload_url_prefix)
    sent = kollus.state.tickets
    assert any(t["upload_file_key"] == media.upload_file_key for t in sent.values())
    for secret in SECRETS:
        assert secret not in response.content.decode()


@pytest.mark.django_db
def test_title_defaults_to_the_file_name(admin_client, kollus):
    body = ticket(admin_client, file_name="Chapter 3.mov").json()
    assert KollusMedia.objects.get(pk=body["id"]).title == "Chapter 3"


@pytest.mark.django_db
def test_admin_defaults_apply_and_editors_cannot_override_encryption(editor, kollus, settings):
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "UPLOAD_ENCRYPTION": True}
    body = ticket(editor, title="Secret", is_encryption_upload="", is_audio_upload="on").json()
    media = KollusMedia.objects.get(pk=body["id"])
    # Not in UPLOAD_EDITOR_OVERRIDES: the posted values are ignored, the defaults win.
    assert media.use_encryption is True
    assert media.is_audio is False
    sent = next(t for t in kollus.state.tickets.values() if t["upload_file_key"] == body["upload_file_key"])
    assert sent["is_encryption_upload"] in (1, True, "1")


@pytest.mark.django_db
def test_superusers_may_override_the_defaults(admin_client, kollus):
    body = ticket(admin_client, title="Audio", is_audio_upload="on").json()
    assert KollusMedia.objects.get(pk=body["id"]).is_audio is True


@pytest.mark.django_db
def test_kollus_refusing_an_upload_url_is_a_message_and_a_failed_row(admin_client, kollus):
    kollus.faults.set("kollus.upload_create_url", status=500, times=10)
    response = ticket(admin_client, title="Nope")
    assert response.status_code == 502
    error = response.json()["error"]
    # A sentence an editor can read: the status and the API's message, no dict, no class name.
    assert error.startswith("Kollus did not give an upload URL: ")
    assert error.endswith("HTTP 500.") and error.count("HTTP 500") == 1
    assert "{" not in error and "UnavailableError" not in error and "status_code" not in error
    media = KollusMedia.objects.get()
    assert media.state == MediaState.FAILED
    assert media.error_message == error.removeprefix("Kollus did not give an upload URL: ")


@pytest.mark.django_db
def test_a_refused_token_reads_as_a_sentence_without_secrets(admin_client, kollus):
    kollus.faults.set("kollus.upload_create_url", status=401, times=10)
    response = ticket(admin_client, title="Nope")
    assert response.status_code == 502
    error = response.json()["error"]
    assert error.startswith("Kollus did not give an upload URL: ") and error.endswith("HTTP 401.")
    assert error.count("HTTP 401") == 1
    assert kollus.kollus_settings()["KOLLUS_ACCESS_TOKEN"] not in response.content.decode()
    assert "access_token" not in error


@pytest.mark.django_db
def test_invalid_options_are_400_json(admin_client, kollus):
    response = admin_client.post(reverse("kollus_media:upload_ticket"), {})
    assert response.status_code == 400
    assert "error" in response.json()
    assert not KollusMedia.objects.exists()


@pytest.mark.django_db
def test_abort_marks_the_row_failed_with_the_reason(admin_client, kollus):
    body = ticket(admin_client, title="Cancel me").json()
    response = admin_client.post(body["abort_url"], {"reason": "Upload cancelled."})
    assert response.status_code == 200
    media = KollusMedia.objects.get(pk=body["id"])
    assert media.state == MediaState.FAILED and media.error_message == "Upload cancelled."


@pytest.mark.django_db
def test_cancel_removes_the_row_nothing_reached_kollus(admin_client, kollus):
    """Cancel (or leaving the page, whose beacon says the same) leaves no "failed" row."""
    body = ticket(admin_client, title="cancel-me").json()
    response = admin_client.post(body["abort_url"], {"cancelled": "1", "reason": "Upload cancelled."})
    assert response.status_code == 200
    assert response.json()["deleted"] is True
    assert not KollusMedia.objects.filter(pk=body["id"]).exists()
    # Only an upload still on its way can be cancelled: a second beacon changes nothing.
    assert admin_client.post(body["abort_url"], {"cancelled": "1"}).status_code == 404


@pytest.mark.django_db
def test_ticket_schedules_a_look_at_uploads_the_browser_never_finishes(admin_client, kollus, settings):
    from django.utils import timezone
    from django_q.models import Schedule

    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "STUCK_AFTER_MINUTES": 30}
    before = timezone.now()
    body = ticket(admin_client, title="Left mid-upload").json()
    schedule = Schedule.objects.get(func="wagtail_kollus.media.tasks.refresh_media")
    assert schedule.args == f"({body['id']},)"
    assert schedule.schedule_type == Schedule.ONCE
    delay = (schedule.next_run - before).total_seconds()
    assert 31 * 60 - 5 <= delay <= 31 * 60 + 5


@pytest.mark.django_db
def test_status_json_carries_the_one_wording_of_states(admin_client, kollus):
    from wagtail_kollus.media.states import STATE_DESCRIPTIONS

    body = ticket(admin_client, title="Wording").json()
    status = admin_client.get(body["status_url"]).json()
    assert status["state"] == "uploading" and status["state_label"] == "Uploading"
    assert status["state_description"] == str(STATE_DESCRIPTIONS[MediaState.UPLOADING])
    KollusMedia.objects.filter(pk=body["id"]).update(state=MediaState.FAILED)
    failed = admin_client.get(body["status_url"]).json()
    assert failed["state_classname"] == "w-bg-critical-50 w-text-critical-200"
    assert failed["error"].startswith("Kollus could not transcode the file")


@pytest.mark.django_db
def test_replace_takes_encryption_and_kind_from_the_original(admin_client, kollus):
    """Kollus replaces like with like, so the replace form does not offer what it must copy."""
    original = KollusMedia.objects.create(
        title="Secret lesson", upload_file_key="ufk-secret", state=MediaState.READY,
        use_encryption=True, is_audio=False,
    )
    upload_page = admin_client.get(reverse("kollus_media:add")).content.decode()
    assert 'name="is_encryption_upload"' in upload_page  # a superuser may choose on upload
    page = admin_client.get(reverse("kollus_media:replace", args=(original.pk,))).content.decode()
    assert 'name="is_encryption_upload"' not in page and 'name="is_audio_upload"' not in page
    assert "It is encrypted (DRM), like this video." in page
    assert "uploaded as a video, like this one" in page

    body = admin_client.post(
        reverse("kollus_media:upload_ticket") + f"?replace={original.pk}",
        {"file_name": "v2.mp4", "is_encryption_upload": "", "is_audio_upload": "on"},
    ).json()
    new = KollusMedia.objects.get(pk=body["id"])
    assert new.use_encryption is True and new.is_audio is False


@pytest.mark.django_db
def test_browser_can_post_the_file_cross_origin(admin_client, kollus):
    """What the browser does with the ticket: CORS preflight, then the multipart POST."""
    body = ticket(admin_client, title="Direct").json()
    preflight = requests.options(
        body["upload_url"],
        headers={"Origin": "http://cms.example", "Access-Control-Request-Method": "POST"},
        timeout=5,
    )
    assert preflight.headers.get("Access-Control-Allow-Origin") in ("*", "http://cms.example")
    upload = requests.post(
        body["upload_url"],
        files={"upload-file": ("lesson.mp4", b"\0" * 100)},
        data={"accept": "application/json"},
        headers={"Origin": "http://cms.example"},
        timeout=5,
    )
    assert upload.status_code == 200
    assert admin_client.post(body["complete_url"]).json()["state"] == "uploading"


@pytest.mark.django_db
def test_upload_page_and_modal_hold_no_secret(admin_client, kollus):
    for url in (reverse("kollus_media:add"), reverse("kollus_media:upload_modal")):
        response = admin_client.get(url)
        assert response.status_code == 200
        html = response.content.decode()
        assert "data-kollus-upload" in html
        assert "wagtail_kollus/js/upload.js" in html
        for secret in SECRETS:
            assert secret not in html, (url, secret)
    modal = admin_client.get(reverse("kollus_media:upload_modal")).json()
    assert modal["step"] == "upload"


def test_upload_script_holds_no_secret_and_posts_the_right_field():
    from pathlib import Path

    import wagtail_kollus

    script = (Path(wagtail_kollus.__file__).parent / "static/wagtail_kollus/js/upload.js").read_text()
    assert '"upload-file"' in script
    assert "upload.addEventListener(\"progress\"" in script
    assert "access_token" not in script
