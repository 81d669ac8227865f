"""One wording and one look per video state, and no video left "uploading" for ever.

The library, the upload status JSON and the edit screen say the same thing about a state
(``wagtail_kollus.media.states``); a failed video shows why; states have Wagtail's status tag
styles; an upload the browser abandoned becomes "failed" with a reason once it counts as stuck.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from wagtail_kollus.accounts import kollus_client
from wagtail_kollus.media import tasks
from wagtail_kollus.media.mirror import apply_remote_media
from wagtail_kollus.media.states import (
    STATE_DESCRIPTIONS,
    TRANSCODING_FAILED,
    UPLOAD_ABANDONED,
    state_display,
)
from wagtail_kollus.models import KollusMedia, MediaState
from wagtail_kollus.testing import upload_to_sandbox


@pytest.fixture
def kollus(sandbox, settings):
    settings.WAGTAIL_KOLLUS = sandbox.kollus_settings(
        KOLLUS_RATE_LIMIT_PER_SECOND=100, KOLLUS_RATE_LIMIT_PER_MINUTE=6000, STUCK_AFTER_MINUTES=30
    )
    return sandbox


def aged(media: KollusMedia, **delta) -> KollusMedia:
    KollusMedia.objects.filter(pk=media.pk).update(created_at=timezone.now() - timedelta(**delta))
    media.refresh_from_db()
    return media


def test_every_state_has_a_sentence_and_a_distinct_tag():
    assert set(STATE_DESCRIPTIONS) == set(MediaState)
    looks = {state_display(KollusMedia(state=state)).classname for state in MediaState}
    assert len(looks) == len(MediaState)
    assert state_display(KollusMedia(state=MediaState.READY)).classname == "w-status--primary"


def test_a_failed_video_always_has_a_reason():
    assert state_display(KollusMedia(state=MediaState.FAILED)).reason == str(TRANSCODING_FAILED)
    told = KollusMedia(state=MediaState.FAILED, error_message="Kollus said no (HTTP 500)")
    assert state_display(told).reason == "Kollus said no (HTTP 500)"


@pytest.mark.django_db
def test_library_shows_state_tags_and_failure_reasons(admin_client):
    KollusMedia.objects.create(title="Broken", state=MediaState.FAILED)
    KollusMedia.objects.create(
        title="Refused", state=MediaState.FAILED, error_message="The connection was lost."
    )
    KollusMedia.objects.create(title="Fine", state=MediaState.READY)
    KollusMedia.objects.create(title="Busy", state=MediaState.TRANSCODING)
    html = admin_client.get(reverse("kollus_media:index")).content.decode()
    assert str(TRANSCODING_FAILED) in html
    assert "The connection was lost." in html
    assert 'class="w-status w-bg-critical-50 w-text-critical-200"' in html
    assert 'class="w-status w-status--primary"' in html
    assert 'class="w-status w-bg-info-50 w-text-info-125"' in html


@pytest.mark.django_db
def test_refreshing_an_abandoned_upload_says_it_was_interrupted(kollus):
    # Created on Kollus's side (a ticket) but the file never arrived, long ago.
    left = aged(
        KollusMedia.objects.create(title="Left", upload_file_key="ufk-never-sent", state=MediaState.UPLOADING),
        hours=1,
    )
    assert tasks.refresh_media(left.pk) == "abandoned"
    left.refresh_from_db()
    assert left.state == MediaState.FAILED
    assert left.error_message == str(UPLOAD_ABANDONED)


@pytest.mark.django_db
def test_a_recent_upload_kollus_does_not_know_yet_stays_uploading(kollus):
    recent = KollusMedia.objects.create(
        title="On its way", upload_file_key="ufk-in-flight", state=MediaState.UPLOADING
    )
    assert tasks.refresh_media(recent.pk) == "not found"
    recent.refresh_from_db()
    assert recent.state == MediaState.UPLOADING


@pytest.mark.django_db
def test_refresh_stuck_cleans_up_abandoned_uploads(admin_client, kollus):
    left = aged(
        KollusMedia.objects.create(title="Left", upload_file_key="ufk-gone", state=MediaState.UPLOADING),
        hours=2,
    )
    response = admin_client.post(reverse("kollus_media:refresh_stuck"), follow=True)
    assert "1 stuck video will be refreshed from Kollus." in response.content.decode()
    left.refresh_from_db()
    assert left.state == MediaState.FAILED


@pytest.mark.django_db
def test_a_late_file_clears_the_interrupted_reason(kollus):

    ufk = upload_to_sandbox("late arrival")
    row = KollusMedia.objects.create(
        title="late arrival", upload_file_key=ufk, state=MediaState.FAILED,
        error_message=str(UPLOAD_ABANDONED),
    )
    remote = kollus_client().get_media(ufk)
    assert remote.state in (MediaState.TRANSCODING, MediaState.READY)
    apply_remote_media(row, remote)
    assert row.state == remote.state and row.error_message == ""
