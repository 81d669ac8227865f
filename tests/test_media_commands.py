"""``kollus_upload`` and ``kollus_refresh_media`` against the sandbox (real HTTP)."""

from __future__ import annotations

import shutil
import tracemalloc
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone, translation

from wagtail_kollus.models import KollusMedia, MediaState
from wagtail_kollus.testing import wait_for


def upload(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("kollus_upload", *args, stdout=out, stderr=err)
    except SystemExit as exit_:
        err.write(f"[exit {exit_.code}]")
    return out.getvalue(), err.getvalue()


@pytest.mark.django_db
def test_uploads_files_and_skips_them_the_second_time(kollus, tmp_path):
    (tmp_path / "one.mp4").write_bytes(b"first clip" * 1000)
    (tmp_path / "two.mp4").write_bytes(b"second clip" * 1000)

    out, _ = upload(str(tmp_path))

    assert "2 uploaded, 0 skipped, 0 failed." in out
    assert "[" in out and "%" in out  # the progress bar was drawn
    rows = {m.original_file_name: m for m in KollusMedia.objects.all()}
    assert set(rows) == {"one.mp4", "two.mp4"}
    for row in rows.values():
        assert len(row.checksum_sha256) == 64
        assert row.upload_file_key in kollus.state.media  # the bytes reached the upload host
        assert kollus.state.media[row.upload_file_key]["sha256"] == row.checksum_sha256

    # Same content under another name is still the same video.
    shutil.copy(tmp_path / "one.mp4", tmp_path / "renamed.mp4")
    out, _ = upload(str(tmp_path))
    assert "0 uploaded, 3 skipped, 0 failed." in out
    assert KollusMedia.objects.count() == 2


@pytest.mark.django_db
def test_a_failed_upload_is_reported_retried_later_and_exits_non_zero(kollus, tmp_path):
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"x" * 5000)
    kollus.faults.set("kollus.upload_create_url", status=500, times=10)
    out, err = upload(str(clip), "--no-progress")
    assert "0 uploaded, 0 skipped, 1 failed." in out
    assert "failed" in err and "[exit 1]" in err
    assert "Kollus did not give an upload URL: " in err and "HTTP 500.)" in err
    assert err.count("HTTP 500") == 1
    assert "{" not in err and "UnavailableError" not in err  # a sentence, not a dict
    assert kollus.kollus_settings()["KOLLUS_ACCESS_TOKEN"] not in out + err
    assert KollusMedia.objects.get().state == MediaState.FAILED

    kollus.faults.clear()
    out, _ = upload(str(clip), "--no-progress")
    assert "1 uploaded" in out  # a failed row does not block a retry


@pytest.mark.django_db
def test_upload_runs_in_constant_memory(kollus, tmp_path):
    """48 MiB through hashing, the streaming client and the sandbox: Python allocations stay
    far below the file size (the benchmark does the same for 1 GiB, measuring RSS)."""
    size = 48 * 1024 * 1024
    big = tmp_path / "big.mp4"
    with big.open("wb") as handle:
        handle.truncate(size)
    tracemalloc.start()
    try:
        out, _ = upload(str(big), "--no-progress")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "1 uploaded" in out
    assert kollus.state.media[KollusMedia.objects.get().upload_file_key]["original_file_size"] == size
    assert peak < 12 * 1024 * 1024, f"peak {peak / 2**20:.1f} MiB"


@pytest.mark.django_db
def test_title_needs_exactly_one_file(kollus, tmp_path):
    (tmp_path / "a.mp4").write_bytes(b"a")
    (tmp_path / "b.mp4").write_bytes(b"b")
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("kollus_upload", str(tmp_path), "--title", "Both", stdout=StringIO())


@pytest.mark.django_db
def test_refresh_command_fixes_stuck_videos(kollus, tmp_path, settings):
    clip = tmp_path / "stuck.mp4"
    clip.write_bytes(b"stuck" * 100)
    upload(str(clip), "--no-progress")
    row = KollusMedia.objects.get()
    wait_for(lambda: kollus.state.media[row.upload_file_key]["stage"] == "completed")
    # No callback ever arrived, and it has been a while.
    KollusMedia.objects.filter(pk=row.pk).update(created_at=timezone.now() - timedelta(days=1))

    out = StringIO()
    call_command("kollus_refresh_media", stdout=out)

    assert "1 video(s): 1 refreshed." in out.getvalue()
    row.refresh_from_db()
    assert row.state == MediaState.READY


@pytest.mark.django_db
def test_upload_and_refresh_report_in_the_sites_language(kollus, tmp_path):
    """A Korean site (LANGUAGE_CODE "ko", as the demo) reads the commands' lines in Korean."""
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"korean clip" * 100)
    with translation.override("ko"):
        first, _ = upload(str(clip), "--no-progress")
        again, _ = upload(str(clip), "--no-progress")
        refreshed = StringIO()
        call_command("kollus_refresh_media", "--all", "--queue", stdout=refreshed)
    row = KollusMedia.objects.get()

    assert f"업로드함  {clip}  → #{row.pk} ({row.upload_file_key})" in first, first
    assert "업로드 1개, 건너뜀 0개, 실패 0개." in first, first
    assert f"건너뜀    {clip}  (이미 #{row.pk}(으)로 업로드됨)" in again, again
    assert "업로드 0개, 건너뜀 1개, 실패 0개." in again, again
    assert "동영상 1개: 대기열에 넣음 1건." in refreshed.getvalue(), refreshed.getvalue()
    assert "uploaded" not in first + again and "queued" not in refreshed.getvalue()


def _library(count: int) -> list[KollusMedia]:
    return KollusMedia.objects.bulk_create(
        KollusMedia(upload_file_key=f"bulk-{n}", title=f"Bulk {n}", state=MediaState.READY)
        for n in range(count)
    )


@pytest.mark.django_db
def test_refresh_queues_thousands_of_videos_a_batch_per_statement(kollus):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django_q.models import OrmQ

    _library(1_200)
    out = StringIO()
    with CaptureQueriesContext(connection) as queries:
        call_command("kollus_refresh_media", "--all", "--queue", stdout=out)

    assert "1200 video(s): 1200 queued." in out.getvalue()
    assert OrmQ.objects.count() == 1_200
    # The ids, then per batch of 500 a savepoint and one INSERT for its jobs (not one
    # async_task, each with its own broker and commit, per video).
    assert len(queries) <= 12, [q["sql"][:80] for q in queries]


@pytest.mark.django_db
def test_refresh_resumes_after_the_videos_an_interrupted_run_refreshed(kollus):
    rows = _library(5)
    interrupted_at = timezone.now()
    KollusMedia.objects.filter(pk__in=[rows[0].pk, rows[1].pk]).update(
        last_refreshed_at=interrupted_at + timedelta(seconds=5)
    )
    out = StringIO()
    call_command(
        "kollus_refresh_media", "--all", "--queue", "--resume", interrupted_at.isoformat(), stdout=out
    )
    assert "3 video(s): 3 queued." in out.getvalue()
