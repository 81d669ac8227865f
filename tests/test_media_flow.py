"""The whole lifecycle over real HTTP: the admin asks for an upload URL, the file goes to the
sandbox's upload host, the sandbox sends its callbacks to the live server, a real django-q2
cluster processes them, and the row becomes ready (or failed). Replace and delete follow.
"""

from __future__ import annotations

import pytest
import requests
from django.urls import reverse

from wagtail_kollus.models import CallbackDelivery, DeliveryStatus, KollusMedia, MediaState
from wagtail_kollus.testing import point_callbacks_at, running_cluster, wait_for

pytestmark = [pytest.mark.cluster, pytest.mark.django_db(transaction=True)]



@pytest.fixture
def kollus(sandbox, settings, live_server):
    point_callbacks_at(sandbox, live_server.url, settings)
    # Started after the settings above: the forked workers inherit them.
    with running_cluster():
        yield sandbox
        # Drop callbacks still scheduled, so no worker writes while the test database is flushed.
        sandbox.reset()


def browser_upload(admin_client, title: str, *, replace: KollusMedia | None = None) -> dict:
    """What upload.js does: ask for a ticket, post the file to Kollus, report completion."""
    url = reverse("kollus_media:upload_ticket")
    if replace is not None:
        url += f"?replace={replace.pk}"
    ticket = admin_client.post(url, {"file_name": f"{title}.mp4", "file_size": 4096, "title": title})
    assert ticket.status_code == 200, ticket.content
    ticket = ticket.json()
    response = requests.post(
        ticket["upload_url"],
        data={"accept": "application/json"},
        files={"upload-file": (f"{title}.mp4", b"\x01" * 4096, "video/mp4")},
        timeout=10,
    )
    assert response.status_code == 200
    assert admin_client.post(ticket["complete_url"]).status_code == 200
    return ticket


def state_of(pk: int) -> str:
    return KollusMedia.objects.values_list("state", flat=True).get(pk=pk)


def test_upload_then_callbacks_make_the_video_ready(kollus, admin_client):
    ticket = browser_upload(admin_client, "Lesson one")
    media = KollusMedia.objects.get(pk=ticket["id"])
    assert media.upload_file_key == ticket["upload_file_key"]

    wait_for(lambda: state_of(media.pk) == MediaState.READY, timeout=30)

    media.refresh_from_db()
    assert media.media_content_key, "attached to the configured channel"
    assert media.last_callback_at is not None

    def processed_kinds():
        done = CallbackDelivery.objects.filter(status=DeliveryStatus.PROCESSED)
        return {"upload", "transcoding"} <= set(done.values_list("kind", flat=True))

    # The upload callback's API read may already see "ready"; the transcoding one follows.
    wait_for(processed_kinds, timeout=30)
    assert state_of(media.pk) == MediaState.READY
    status = admin_client.get(ticket["status_url"]).json()
    assert status["state"] == "ready"


def test_transcoding_failure_reaches_the_row(kollus, admin_client):
    ticket = browser_upload(admin_client, "this one will fail")
    wait_for(lambda: state_of(ticket["id"]) == MediaState.FAILED, timeout=30)
    assert not KollusMedia.objects.get(pk=ticket["id"]).media_content_key


def test_sandbox_retries_are_absorbed_once(kollus, admin_client):
    """The sandbox (like Kollus) re-sends until it gets 200; duplicates change nothing."""
    ticket = browser_upload(admin_client, "Retried")
    wait_for(lambda: state_of(ticket["id"]) == MediaState.READY, timeout=30)
    ufk = ticket["upload_file_key"]

    def settled():
        mine = [e for e in kollus.callbacks if e["fields"].get("upload_file_key") == ufk]
        queued = CallbackDelivery.objects.filter(upload_file_key=ufk, status=DeliveryStatus.QUEUED)
        return len(mine) >= 3 and all(e["delivered"] for e in mine) and not queued.exists()

    # Upload, transcoding and our own channel attach: all delivered and processed.
    wait_for(settled, timeout=30)
    before = CallbackDelivery.objects.filter(upload_file_key=ufk).count()
    # Replay every callback the sandbox delivered, exactly as it sent them.
    for entry in kollus.callbacks:
        if entry["fields"].get("upload_file_key") == ufk:
            requests.post(entry["url"], data=entry["fields"], timeout=5).raise_for_status()
    assert CallbackDelivery.objects.filter(upload_file_key=ufk).count() == before
    assert state_of(ticket["id"]) == MediaState.READY


def test_replace_keeps_the_media_content_key(kollus, admin_client):
    first = browser_upload(admin_client, "Version one")
    wait_for(lambda: state_of(first["id"]) == MediaState.READY, timeout=30)
    original = KollusMedia.objects.get(pk=first["id"])

    second = browser_upload(admin_client, "Version two", replace=original)
    assert KollusMedia.objects.get(pk=first["id"]).replacement_id == second["id"]

    def replaced():
        row = KollusMedia.objects.get(pk=first["id"])
        return row.replacement_id is None and row.original_file_name == "Version two.mp4"

    wait_for(replaced, timeout=30)
    row = KollusMedia.objects.get(pk=first["id"])
    assert row.media_content_key == original.media_content_key
    assert row.state == MediaState.READY
    served = kollus.state.media[original.upload_file_key]
    assert served["original_file_name"] == "Version two.mp4"
