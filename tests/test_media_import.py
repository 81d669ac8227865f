"""Copying the Kollus library into the local mirror (``media.importing``), as ``make demo``'s
seed does: every media once, states and keys as Kollus says, idempotent, deletions kept."""

from __future__ import annotations

import pytest

from wagtail_kollus.media import importing
from wagtail_kollus.media.importing import import_library
from wagtail_kollus.models import KollusMedia, MediaState


@pytest.mark.django_db
def test_import_mirrors_every_media_once(kollus, monkeypatch):
    monkeypatch.setattr(importing, "PAGE_SIZE", 25)  # the sandbox's 70 media: three pages
    with kollus.state.lock:
        remote = {ufk: dict(row) for ufk, row in kollus.state.media.items()}
    assert len(remote) > 50
    assert import_library() == len(remote)
    assert kollus.request_count("kollus.media_list") == 3
    assert KollusMedia.objects.count() == len(remote)
    stages = {"completed": MediaState.READY, "failed": MediaState.FAILED}
    for row in KollusMedia.objects.all():
        stage = remote[row.upload_file_key]["stage"]
        assert row.state == stages.get(stage, MediaState.TRANSCODING), (row, stage)
    ready = KollusMedia.objects.filter(state=MediaState.READY)
    assert ready.exists() and not ready.filter(media_content_key="").exists()
    assert kollus.request_count("kollus.media_detail") == 0  # the list alone suffices

    # Twice changes nothing; a video deleted here stays deleted.
    gone = KollusMedia.objects.filter(state=MediaState.READY).first()
    KollusMedia.objects.filter(pk=gone.pk).update(state=MediaState.DELETED)
    assert import_library() == len(remote)
    assert KollusMedia.objects.count() == len(remote)
    assert KollusMedia.objects.get(pk=gone.pk).state == MediaState.DELETED


@pytest.mark.django_db
def test_import_stops_at_the_limit(kollus):
    assert import_library(limit=7) == 7
    assert KollusMedia.objects.count() == 7
    assert kollus.request_count("kollus.media_list") == 1
