"""``manage.py kollus_import`` and import runs, against the sandbox over real HTTP: a channel
of 300 media, interrupted in the middle (an injected fault after K pages, or Ctrl-C),
resumed, ending with exactly 300 rows; API errors recorded on the run, never a traceback;
and the scheduled resync of stale rows."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
import requests
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_q.models import OrmQ, Schedule

from tests.media_support import seed_channel
from wagtail_kollus.media import importing, stale
from wagtail_kollus.models import ImportStatus, KollusImportRun, KollusMedia, MediaState


def kollus_import(*args: str) -> str:
    out = StringIO()
    call_command("kollus_import", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.mark.django_db
def test_import_300_media_stopped_after_two_pages_resumes_to_exactly_300(kollus):
    seed_channel(kollus, 300)
    kollus.faults.set("kollus.media_list", status=401, after=2)  # page 3 is refused
    with pytest.raises(CommandError) as stopped:
        kollus_import()
    assert "page 3" in str(stopped.value) and "401" in str(stopped.value)
    assert kollus.keys.access_token not in str(stopped.value)
    assert KollusMedia.objects.count() == 200
    run = KollusImportRun.objects.get()
    assert (run.status, run.next_page, run.seen, run.total) == (ImportStatus.FAILED, 3, 200, 300)
    assert "401" in run.error_display and run.claimed_until is None

    kollus.faults.clear()
    output = kollus_import()
    assert "Resuming import" in output and "page 3" in output
    assert KollusMedia.objects.count() == 300
    assert KollusMedia.objects.values("upload_file_key").distinct().count() == 300
    run.refresh_from_db()
    assert (run.status, run.seen, run.created_count, run.percent) == (
        ImportStatus.FINISHED,
        300,
        300,
        100,
    )
    # 3 pages read once each, plus the one refused: never a detail call per media.
    assert kollus.request_count("kollus.media_list") == 4 and run.api_calls == 4
    assert kollus.request_count("kollus.media_detail") == 0

    # A new import of the same channel writes nothing new and keeps a deleted video deleted.
    gone = KollusMedia.objects.filter(state=MediaState.READY).first()
    KollusMedia.objects.filter(pk=gone.pk).update(state=MediaState.DELETED)
    assert "0 new, 300 already in the library" in kollus_import()
    assert KollusMedia.objects.count() == 300
    assert KollusMedia.objects.get(pk=gone.pk).state == MediaState.DELETED


@pytest.mark.django_db
def test_ctrl_c_in_the_middle_is_recorded_and_the_next_run_goes_on(kollus, monkeypatch):
    seed_channel(kollus, 300)
    real_mirror_page = importing.mirror_page
    pages = []

    def interrupted_on_the_second_page(items, **kwargs):
        pages.append(len(items))
        if len(pages) == 2:
            raise KeyboardInterrupt
        return real_mirror_page(items, **kwargs)

    monkeypatch.setattr(importing, "mirror_page", interrupted_on_the_second_page)
    with pytest.raises(CommandError, match="page 2") as stopped:
        kollus_import()
    assert stopped.value.returncode == 130  # the shell's status for an interrupt
    run = KollusImportRun.objects.get()
    assert (run.status, run.next_page) == (ImportStatus.FAILED, 2)
    assert "interrupted" in run.error_display
    assert KollusMedia.objects.count() == 100

    monkeypatch.setattr(importing, "mirror_page", real_mirror_page)
    kollus_import("--no-progress")
    assert KollusMedia.objects.count() == 300
    assert KollusImportRun.objects.get().status == ImportStatus.FINISHED


@pytest.mark.django_db
@pytest.mark.parametrize(
    "fault, expected",
    [
        ({"status": 503}, "503"),
        ({"body": "malformed_json"}, "JSON"),
        ({"status": 429, "retry_after": 600}, "429"),
        ({"reset": True}, "Kollus"),
    ],
)
def test_api_failures_stop_the_run_with_a_reason_and_it_resumes(kollus, settings, fault, expected):
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "MAX_RETRIES": 0}
    seed_channel(kollus, 150)
    kollus.faults.set("kollus.media_list", after=1, **fault)
    with pytest.raises(CommandError) as stopped:
        kollus_import()
    run = KollusImportRun.objects.get()
    assert run.status == ImportStatus.FAILED and run.next_page == 2
    assert expected in run.error_display and expected in str(stopped.value)
    assert kollus.keys.access_token not in run.error_message + str(run.error_message_i18n)
    kollus.faults.clear()
    kollus_import()
    assert KollusMedia.objects.count() == 150


@pytest.mark.django_db
def test_a_run_another_worker_holds_is_left_alone(kollus):
    run, _created = importing.start_or_resume()
    KollusImportRun.objects.filter(pk=run.pk).update(
        status=ImportStatus.RUNNING,
        claim_token="another",
        claimed_by="elsewhere:1",
        claimed_until=timezone.now() + timedelta(minutes=1),
    )
    with pytest.raises(CommandError, match="running elsewhere"):
        kollus_import()
    assert kollus.request_count("kollus.media_list") == 0
    # Once that worker's lease has expired (it was killed), the run is taken over.
    KollusImportRun.objects.filter(pk=run.pk).update(claimed_until=timezone.now())
    kollus_import()
    assert KollusImportRun.objects.get().status == ImportStatus.FINISHED


@pytest.mark.django_db
def test_status_and_queue(kollus):
    assert "No import has run yet" in kollus_import("--status")
    assert "queued for the cluster" in kollus_import("--queue")
    assert OrmQ.objects.count() == 1
    assert "Queued" in kollus_import("--status")


@pytest.mark.django_db
def test_stale_rows_are_reread_through_the_list_only(kollus, settings):
    seed_channel(kollus, 250)
    importing.import_library()
    baseline = kollus.request_count("kollus.media_list")
    # Nothing stale: no call at all.
    assert stale.resync_stale_media() == "no stale media"
    assert kollus.request_count("kollus.media_list") == baseline

    # Two rows went stale, one of them changed on Kollus meanwhile (a lost callback).
    old = timezone.now() - timedelta(
        hours=settings.WAGTAIL_KOLLUS.get("MEDIA_RESYNC_HOURS", 24) + 1
    )
    newest = list(KollusMedia.objects.order_by("-kollus_created_at")[:2])
    KollusMedia.objects.filter(pk__in=[m.pk for m in newest]).update(
        last_refreshed_at=old, title="stale title"
    )
    summary = stale.resync_stale_media()
    assert summary.startswith("refreshed 2 of 2 stale media in 1 list call(s)")
    assert kollus.request_count("kollus.media_list") == baseline + 1  # they are on page 1
    assert not KollusMedia.objects.filter(title="stale title").exists()
    assert not stale.stale_media().exists()

    # A stale row Kollus no longer lists is queued for a single refresh.
    gone = KollusMedia.objects.create(
        upload_file_key="not-listed-any-more", title="gone", state=MediaState.READY
    )
    summary = stale.resync_stale_media()
    assert "queued 1 unlisted" in summary
    assert kollus.request_count("kollus.media_list") == baseline + 1 + 3  # the whole list
    assert OrmQ.objects.count() == 1
    assert OrmQ.objects.get().task["func"].endswith("refresh_media") and gone.pk


@pytest.mark.django_db
def test_install_schedule_is_idempotent(settings):
    assert "Created schedule" in kollus_import("--install-schedule")
    assert "exists" in kollus_import("--install-schedule")
    schedule = Schedule.objects.get(name=stale.SCHEDULE_NAME)
    assert schedule.func == "wagtail_kollus.media.tasks.resync_stale_media"
    assert schedule.minutes == 24 * 60


def test_the_sandbox_seeds_a_channel_and_faults_can_wait_for_k_requests(sandbox):
    seed_channel(sandbox, 300)
    bad = requests.post(sandbox.base_url + "/_sandbox/media", json={"count": "many"}, timeout=5)
    assert bad.status_code == 422
    sandbox.faults.set("kollus.media_list", status=503, after=2, times=1)
    url = sandbox.kollus_api_url + "/api/media-contents"
    params = {"access_token": sandbox.keys.access_token, "per_page": 100}
    statuses = [requests.get(url, params=params, timeout=5).status_code for _ in range(4)]
    assert statuses == [200, 200, 503, 200]
    sandbox.reset()
    assert requests.get(sandbox.base_url + "/_sandbox", timeout=5).json()["media"] == 70


@pytest.mark.django_db
def test_callbacks_keep_imported_rows_current_so_the_resync_skips_them(
    kollus, settings, django_capture_on_commit_callbacks
):
    """Between resyncs, the content-update and channel callbacks re-read an imported row:
    it changes and counts as fresh, so the scheduled resync has nothing to read for it."""
    from tests.factories import deliver
    from wagtail_kollus.accounts import kollus_client
    from wagtail_kollus.media import tasks

    seed_channel(kollus, 120)
    importing.import_library()
    old = timezone.now() - timedelta(hours=25)
    KollusMedia.objects.update(last_refreshed_at=old)
    ready = KollusMedia.objects.filter(state=MediaState.READY).order_by("pk")
    edited, detached = ready[0], ready[1]
    kollus_client().update_media(edited.upload_file_key, title="Renamed in the console")
    kollus_client().detach_from_channel(
        detached.channels[0]["channel_key"], detached.upload_file_key
    )
    callbacks = [
        deliver("content-update", upload_file_key=edited.upload_file_key, update_type="title"),
        deliver(
            "channel-delete",
            upload_file_key=detached.upload_file_key,
            channel_key=detached.channels[0]["channel_key"],
        ),
    ]
    for delivery in callbacks:
        with django_capture_on_commit_callbacks(execute=True):
            assert tasks.process_callback(delivery.fingerprint) == "processed"
    edited.refresh_from_db()
    detached.refresh_from_db()
    assert edited.title == "Renamed in the console"
    assert detached.channels == [] and detached.media_content_key == ""
    fresh = stale.stale_media().filter(pk__in=[edited.pk, detached.pk])
    assert not fresh.exists()
    assert stale.stale_media().count() == KollusMedia.objects.count() - 2
