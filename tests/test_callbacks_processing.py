"""What the worker does with a logged callback, against the sandbox's Kollus API (real HTTP).

The task functions run in-process here so each rule can be checked on its own; the same
functions run in a real django-q2 cluster in ``test_media_flow.py``.
"""

from __future__ import annotations

import pytest

from tests.factories import deliver
from tests.media_support import sandbox_stage
from wagtail_kollus import signals
from wagtail_kollus.accounts import kollus_client
from wagtail_kollus.media import tasks
from wagtail_kollus.models import CallbackDelivery, DeliveryStatus, KollusMedia, MediaState
from wagtail_kollus.testing import upload_to_sandbox, wait_for


@pytest.fixture
def received():
    """Every public lifecycle signal sent during the test, as (name, instance pk)."""
    log: list[tuple[str, int]] = []
    names = ["video_uploaded", "video_ready", "video_failed", "video_updated", "video_channel_changed"]
    receivers = []
    for name in names:

        def receiver(sender, instance, _name=name, **kwargs):
            log.append((_name, instance.pk))

        getattr(signals, name).connect(receiver)
        receivers.append((name, receiver))
    yield log
    for name, receiver in receivers:
        getattr(signals, name).disconnect(receiver)


def run(delivery: CallbackDelivery, capture) -> str:
    with capture(execute=True):
        return tasks.process_callback(delivery.fingerprint)


@pytest.mark.django_db
def test_transcoding_success_makes_the_row_ready_and_attaches_to_the_channel(
    kollus, received, django_capture_on_commit_callbacks
):
    ufk = upload_to_sandbox("Intro")
    row = KollusMedia.objects.create(title="Intro", upload_file_key=ufk)
    wait_for(lambda: sandbox_stage(kollus, ufk) == "completed")

    result = run(deliver("transcoding", upload_file_key=ufk, transcoding_result="success"), django_capture_on_commit_callbacks)

    assert result == "processed"
    row.refresh_from_db()
    assert row.state == MediaState.READY
    assert row.duration_seconds
    assert row.media_content_key  # attached to KOLLUS_CHANNEL_KEY, so it has a playback key
    assert row.last_callback_at is not None
    assert ("video_ready", row.pk) in received
    assert ("video_uploaded", row.pk) in received
    assert CallbackDelivery.objects.get().status == DeliveryStatus.PROCESSED


@pytest.mark.django_db
def test_processing_the_same_delivery_twice_changes_nothing_the_second_time(
    kollus, received, django_capture_on_commit_callbacks
):
    ufk = upload_to_sandbox("Twice")
    KollusMedia.objects.create(title="Twice", upload_file_key=ufk)
    wait_for(lambda: sandbox_stage(kollus, ufk) == "completed")
    delivery = deliver("transcoding", upload_file_key=ufk, transcoding_result="success")
    run(delivery, django_capture_on_commit_callbacks)
    count = len(received)
    requests_before = kollus.request_count()

    assert run(delivery, django_capture_on_commit_callbacks) == "already processed"
    assert len(received) == count
    assert kollus.request_count() == requests_before  # not even an API read


@pytest.mark.django_db
def test_transcoding_failure_marks_the_row_failed(kollus, received, django_capture_on_commit_callbacks):
    ufk = upload_to_sandbox("will fail")
    row = KollusMedia.objects.create(title="will fail", upload_file_key=ufk)
    wait_for(lambda: sandbox_stage(kollus, ufk) == "failed")

    run(deliver("transcoding", upload_file_key=ufk, transcoding_result="fail"), django_capture_on_commit_callbacks)

    row.refresh_from_db()
    assert row.state == MediaState.FAILED
    assert not row.media_content_key
    assert ("video_failed", row.pk) in received
    assert not any(name == "video_ready" for name, _ in received)


@pytest.mark.django_db
def test_callback_says_fail_but_the_api_says_ready_trusts_the_api(
    kollus, django_capture_on_commit_callbacks
):
    # Callbacks are unsigned hints; a forged-but-authenticated "fail" must not break a video.
    ufk = upload_to_sandbox("Fine")
    row = KollusMedia.objects.create(title="Fine", upload_file_key=ufk)
    wait_for(lambda: sandbox_stage(kollus, ufk) == "completed")
    run(deliver("transcoding", upload_file_key=ufk, transcoding_result="fail"), django_capture_on_commit_callbacks)
    row.refresh_from_db()
    assert row.state == MediaState.READY


@pytest.mark.django_db
def test_unknown_key_that_kollus_knows_creates_the_mirror_row(kollus, received, django_capture_on_commit_callbacks):
    ufk = upload_to_sandbox("Uploaded in the console")
    wait_for(lambda: sandbox_stage(kollus, ufk) == "completed")
    assert not KollusMedia.objects.exists()

    run(deliver("upload", upload_file_key=ufk, filename="console"), django_capture_on_commit_callbacks)

    row = KollusMedia.objects.get(upload_file_key=ufk)
    assert row.title == "Uploaded in the console"
    assert row.state == MediaState.READY


@pytest.mark.django_db
def test_unknown_key_that_kollus_does_not_know_is_recorded_and_ignored(
    kollus, received, django_capture_on_commit_callbacks
):
    delivery = deliver("upload", upload_file_key="no-such-key", filename="x")
    assert run(delivery, django_capture_on_commit_callbacks) == "ignored"
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.IGNORED
    assert not KollusMedia.objects.exists()
    assert received == []


@pytest.mark.django_db
def test_content_update_from_the_console_updates_the_title(kollus, received, django_capture_on_commit_callbacks):
    ufk = upload_to_sandbox("Old title")
    wait_for(lambda: sandbox_stage(kollus, ufk) == "completed")
    run(deliver("upload", upload_file_key=ufk), django_capture_on_commit_callbacks)
    row = KollusMedia.objects.get(upload_file_key=ufk)
    # An edit in the Kollus console (the sandbox's API stands in for it).
    kollus_client().update_media(ufk, title="New title")

    run(deliver("content-update", upload_file_key=ufk, update_type="title"), django_capture_on_commit_callbacks)

    row.refresh_from_db()
    assert row.title == "New title"
    assert ("video_updated", row.pk) in received


@pytest.mark.django_db
def test_channel_removed_in_the_console_updates_channels_and_signals(
    kollus, received, django_capture_on_commit_callbacks
):
    ufk = upload_to_sandbox("Channel hop")
    wait_for(lambda: sandbox_stage(kollus, ufk) == "completed")
    run(deliver("transcoding", upload_file_key=ufk, transcoding_result="success"), django_capture_on_commit_callbacks)
    row = KollusMedia.objects.get(upload_file_key=ufk)
    channel_key = row.channels[0]["channel_key"]
    kollus_client().detach_from_channel(channel_key, ufk)  # the console's doing
    received.clear()

    run(deliver("channel-delete", upload_file_key=ufk, channel_key=channel_key), django_capture_on_commit_callbacks)

    row.refresh_from_db()
    assert row.channels == [] and row.media_content_key == ""
    assert [r for r in received if r[0] == "video_channel_changed"] == [("video_channel_changed", row.pk)]
    assert not row.channels, "not re-attached: the console's choice stands"


@pytest.mark.django_db
def test_deleted_rows_are_not_resurrected_by_a_late_callback(kollus, django_capture_on_commit_callbacks):
    ufk = upload_to_sandbox("Gone")
    wait_for(lambda: sandbox_stage(kollus, ufk) == "completed")
    row = KollusMedia.objects.create(title="Gone", upload_file_key=ufk, state=MediaState.DELETED)
    run(deliver("transcoding", upload_file_key=ufk, transcoding_result="success"), django_capture_on_commit_callbacks)
    row.refresh_from_db()
    assert row.state == MediaState.DELETED
