"""A site receiver that raises never breaks our state machine nor shows an editor a 500.

These tests use real transactions (``transaction=True``): ``on_commit`` callbacks then run
when the code's own transaction commits, exactly as in the worker and in a request, and not
at the end of a test-only capture block.
"""

from __future__ import annotations

import logging

import pytest
from django.urls import reverse

from tests.factories import deliver
from tests.media_support import sandbox_stage
from wagtail_kollus import signals
from wagtail_kollus.media import tasks
from wagtail_kollus.models import CallbackDelivery, DeliveryStatus, KollusMedia, MediaState
from wagtail_kollus.testing import upload_to_sandbox, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def raising_receiver(kollus):
    """Connect a receiver that raises, with the access token in its message, to a signal."""
    token = kollus.kollus_settings()["KOLLUS_ACCESS_TOKEN"]
    connected = []
    calls = []

    def connect(signal):
        def site_receiver(sender, instance, **kwargs):
            calls.append(instance.pk)
            raise RuntimeError(f"site code broke: https://x.example/?access_token={token}")

        signal.connect(site_receiver, weak=False)
        connected.append((signal, site_receiver))
        return calls

    yield connect
    for signal, receiver in connected:
        signal.disconnect(receiver)


def assert_logged_without_secret(caplog, kollus, signal_name: str) -> None:
    records = [r for r in caplog.records if r.name == "wagtail_kollus.signals"]
    assert len(records) == 1
    text = records[0].getMessage()
    assert records[0].levelno == logging.ERROR
    assert f"of the {signal_name} signal" in text
    assert "site_receiver" in text  # names the receiver
    assert "Traceback" in text and "RuntimeError: site code broke" in text
    assert kollus.kollus_settings()["KOLLUS_ACCESS_TOKEN"] not in text


def test_a_raising_video_ready_receiver_does_not_stall_the_callback(kollus, raising_receiver, caplog):
    calls = raising_receiver(signals.video_ready)
    later = []
    signals.video_ready.connect(receiver := lambda sender, instance, **kw: later.append(instance.pk))
    ufk = upload_to_sandbox("Robust")
    row = KollusMedia.objects.create(title="Robust", upload_file_key=ufk)
    wait_for(lambda: sandbox_stage(kollus, ufk) == "completed")
    delivery = deliver("transcoding", upload_file_key=ufk, transcoding_result="success")

    try:
        with caplog.at_level(logging.ERROR, logger="wagtail_kollus.signals"):
            result = tasks.process_callback(delivery.fingerprint)
    finally:
        signals.video_ready.disconnect(receiver)

    assert result == "processed"
    assert CallbackDelivery.objects.get().status == DeliveryStatus.PROCESSED
    row.refresh_from_db()
    assert row.state == MediaState.READY and row.last_callback_at is not None
    assert calls == [row.pk] and later == [row.pk]  # the other receivers still ran
    assert_logged_without_secret(caplog, kollus, "video_ready")


def test_a_raising_video_deleted_receiver_still_gives_the_normal_redirect(
    admin_client, kollus, raising_receiver, caplog
):
    calls = raising_receiver(signals.video_deleted)
    ufk = upload_to_sandbox("Gone")
    wait_for(lambda: sandbox_stage(kollus, ufk) == "completed")
    media = KollusMedia.objects.create(title="Gone", upload_file_key=ufk, state=MediaState.READY)

    with caplog.at_level(logging.ERROR, logger="wagtail_kollus.signals"):
        response = admin_client.post(reverse("kollus_media:delete", args=(media.pk,)))

    assert response.status_code == 302
    assert response["Location"] == reverse("kollus_media:index")
    assert calls == [media.pk]
    assert KollusMedia.objects.get(pk=media.pk).state == MediaState.DELETED
    assert ufk not in kollus.state.media
    listing = admin_client.get(response["Location"]).content.decode()
    assert "Video &#x27;Gone&#x27; deleted." in listing
    assert_logged_without_secret(caplog, kollus, "video_deleted")


def test_send_robustly_returns_every_response(db):
    def fine(sender, **kwargs):
        return "ok"

    def broken(sender, **kwargs):
        raise ValueError("nope")

    signal = signals.video_updated
    signal.connect(fine, weak=False)
    signal.connect(broken, weak=False)
    try:
        responses = dict(signals.send_robustly(signal, sender=KollusMedia, changed_fields=[]))
    finally:
        signal.disconnect(fine)
        signal.disconnect(broken)
    assert responses[fine] == "ok"
    assert isinstance(responses[broken], ValueError)
