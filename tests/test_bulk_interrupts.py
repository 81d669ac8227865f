"""Ctrl-C during a bulk command, as it is run: ``manage.py``'s entry point in its own process
on this test's database file, sent SIGINT while it works. It ends with the one line that says
how to go on (the resume hint), no traceback burying it, and the shell's status for an
interrupt (130). And ``kollus_sync``'s summary speaks the site's language."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import translation

from tests.bulk_pages import build_pages, tree_root
from tests.bulk_support import SYNC_SETTINGS, run_sync
from tests.testapp.models import CoursePage
from wagtail_kollus.management.interrupts import CountedCommit
from wagtail_kollus.models import ContentRecord, KollusMedia, MediaState, PageContentLink

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("interrupts"),
    pytest.mark.skipif(connection.vendor != "sqlite", reason="the child reads the SQLite file"),
]

ROOT = Path(__file__).resolve().parent.parent
INTERRUPTED = 130

# The test settings on this test's database file (Django reads its database once per process,
# from the settings: the child points them at the file before it sets up), with the
# WAGTAIL_KOLLUS values the test gives.
CHILD = """
import json, os, sys
from django.conf import settings
from django.core.management import execute_from_command_line

settings.DATABASES["default"]["NAME"] = sys.argv[1]
settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, **json.loads(os.environ["CHILD_KOLLUS"])}
execute_from_command_line(["manage.py", *sys.argv[2:]])
"""


def start_command(kollus_settings: dict, *args: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATABASE_URL")}
    env.update(
        DJANGO_SETTINGS_MODULE="tests.settings",
        PYTHONPATH=str(ROOT),
        PYTHONUNBUFFERED="1",
        CHILD_KOLLUS=json.dumps(kollus_settings),
    )
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(connection.settings_dict["NAME"]), *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def interrupted(process: subprocess.Popen) -> tuple[str, str]:
    """The output of a process sent SIGINT, once it has ended as an interrupt should."""
    out, err = process.communicate(timeout=60)
    assert process.returncode == INTERRUPTED, (out, err)
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    return out, err


def wait_for_call(sandbox, endpoint: str, process: subprocess.Popen, calls: int = 1) -> None:
    """Until the command has made ``calls`` calls to ``endpoint`` (it then waits for the
    sandbox's slowed answer to the last one)."""
    deadline = time.monotonic() + 60
    while sandbox.request_count(endpoint) < calls:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, f"{endpoint} was not called {calls} time(s)"
        time.sleep(0.05)


def hold_write_lock_after_first_batch(db: str, process: subprocess.Popen) -> sqlite3.Connection:
    """Wait until the command has committed its first batch of jobs, then take SQLite's write
    lock: its next batch waits for it, so the SIGINT finds it mid-run however fast it queues."""
    # No busy timeout, tried every millisecond: SQLite's busy handler backs off to 100 ms
    # sleeps, longer than the command's gap between two batches, and would starve us.
    lock = sqlite3.connect(db, timeout=0, isolation_level=None)
    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the first batch was never queued"
        try:
            lock.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:  # the command holds it: between two of its batches
            time.sleep(0.001)
            continue
        if lock.execute("SELECT COUNT(*) FROM django_q_ormq").fetchone()[0]:
            return lock
        lock.execute("ROLLBACK")
        time.sleep(0.001)


def interrupted_after_first_batch(process: subprocess.Popen) -> tuple[str, str]:
    """SIGINT to a queueing command while it waits for SQLite's write lock after its first
    committed batch, so the signal always lands mid-run; what it printed."""
    lock = hold_write_lock_after_first_batch(str(connection.settings_dict["NAME"]), process)
    try:
        process.send_signal(signal.SIGINT)
        time.sleep(0.5)  # the signal is pending in the process waiting for the lock
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    return interrupted(process)


def test_ctrl_c_during_kollus_sync_ends_with_the_resume_hint_and_status_130(settings):
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, **SYNC_SETTINGS}
    build_pages(tree_root(), 2_000, CoursePage, intro="<p>Bulk</p>")
    process = start_command(SYNC_SETTINGS, "kollus_sync", "--no-progress")
    _out, err = interrupted_after_first_batch(process)

    found = re.search(
        r"Interrupted after (\d+) of 2000 page\(s\) \(queued: \1\)\. Nothing is lost: "
        r"run the same command with --resume (\S+) to go on\.",
        err,
    )
    assert found, err
    queued, since = int(found.group(1)), found.group(2)
    assert 0 < queued < 2_000
    assert PageContentLink.objects.count() == queued  # the batch it was in rolled back

    out, err = run_sync("--resume", since)  # the hint works: the rest, once
    assert f"{2_000 - queued} page(s). queued: {2_000 - queued}" in out, out + err
    assert PageContentLink.objects.count() == 2_000


def test_ctrl_c_mid_upload_marks_the_file_failed_so_the_rerun_uploads_it(kollus, tmp_path):
    (tmp_path / "a.mp4").write_bytes(b"first clip" * 1000)
    (tmp_path / "b.mp4").write_bytes(b"second clip" * 1000)
    kollus.faults.set("kollus.upload", latency=30, after=1, times=1)  # the second file's
    settings = kollus.kollus_settings(KOLLUS_RATE_LIMIT_PER_SECOND=100)
    process = start_command(settings, "kollus_upload", "--no-progress", str(tmp_path))
    wait_for_call(kollus, "kollus.upload", process, calls=2)
    process.send_signal(signal.SIGINT)
    _out, err = interrupted(process)

    assert "Interrupted at file 2 of 2 (b.mp4). Run the same command again" in err, err
    rows = {m.original_file_name: m for m in KollusMedia.objects.all()}
    assert rows["a.mp4"].state != MediaState.FAILED
    # Not left "uploading" with the file's checksum: the re-run would skip it as uploaded.
    assert rows["b.mp4"].state == MediaState.FAILED
    assert rows["b.mp4"].error_message == "The upload was interrupted. Upload it again."

    out = io.StringIO()  # the re-run the message suggests
    call_command("kollus_upload", "--no-progress", str(tmp_path), stdout=out)
    assert "1 uploaded, 1 skipped, 0 failed." in out.getvalue(), out.getvalue()


def test_ctrl_c_during_kollus_refresh_media_prints_its_resume_hint(kollus):
    for n in range(3):
        KollusMedia.objects.create(upload_file_key=f"ufk-{n}", title=f"Clip {n}")
    kollus.faults.set("kollus.media_detail", latency=30)
    settings = kollus.kollus_settings(KOLLUS_RATE_LIMIT_PER_SECOND=100)
    process = start_command(settings, "kollus_refresh_media", "--all")
    wait_for_call(kollus, "kollus.media_detail", process)
    process.send_signal(signal.SIGINT)
    _out, err = interrupted(process)
    assert re.search(r"Interrupted after 0 of 3 video\(s\)\. Go on with: --resume \S+", err), err


def test_ctrl_c_while_kollus_refresh_media_queues_says_how_far_it_got():
    KollusMedia.objects.bulk_create(
        KollusMedia(upload_file_key=f"ufk-{n}", title=f"Clip {n}") for n in range(6_000)
    )
    process = start_command({}, "kollus_refresh_media", "--all", "--queue")
    _out, err = interrupted_after_first_batch(process)
    found = re.search(r"Interrupted after queuing (\d+) of 6000 video\(s\)\.", err)
    assert found and 0 < int(found.group(1)) < 6_000, err


def test_ctrl_c_during_a_stats_backfill_says_to_go_on_with_resume(kollus):
    kollus.faults.set("kollus.stats_content_rank", latency=30, after=1)
    settings = kollus.kollus_settings(KOLLUS_RATE_LIMIT_PER_SECOND=100)
    end = date.today() - timedelta(days=1)
    start = end - timedelta(days=4)
    process = start_command(settings, "kollus_stats", "--backfill", str(start), str(end))
    wait_for_call(kollus, "kollus.stats_content_rank", process, calls=2)
    process.send_signal(signal.SIGINT)
    _out, err = interrupted(process)
    assert "Interrupted after 1 of 5 day(s)" in err and "with --resume to go on." in err, err


def test_ctrl_c_during_kollus_sync_pull_says_a_rerun_goes_on(kollus):
    # The second page of the listing (the seed has more than 100 Korean records) is slowed:
    # the first page's records are mirrored by then.
    kollus.faults.set("contents.list", latency=30, after=1)
    process = start_command(kollus.kollus_settings(), "kollus_sync", "--pull", "--pause", "0")
    wait_for_call(kollus, "contents.list", process, calls=2)
    process.send_signal(signal.SIGINT)
    _out, err = interrupted(process)
    assert "Interrupted after 100 record(s)." in err, err
    assert "run the same command again to mirror the rest." in err, err
    assert ContentRecord.objects.count() == 100  # kept, as it says


def test_the_kollus_sync_summary_speaks_the_sites_language():
    build_pages(tree_root(), 3, CoursePage, intro="<p>Bulk</p>")
    out = io.StringIO()
    with translation.override("ko"):
        call_command("kollus_sync", "--no-progress", stdout=out)
    assert "대기열에 넣음: 3" in out.getvalue(), out.getvalue()
    assert "queued" not in out.getvalue()


@pytest.mark.skipif(
    threading.current_thread() is not threading.main_thread(), reason="signals: main thread"
)
def test_a_ctrl_c_between_a_batch_s_commit_and_its_count_waits_for_the_count():
    # The race the kollus_sync test above once lost under load: SIGINT right after a batch
    # committed, before it was counted, printed "0 of 2000 page(s) (queued: 500)".
    commit = CountedCommit()
    counted = 0
    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):
        try:
            commit.hold()
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)  # where the interrupt used to land
            counted += 500
        finally:
            commit.release()
    assert counted == 500
    assert signal.getsignal(signal.SIGINT) is before  # the handler is put back
