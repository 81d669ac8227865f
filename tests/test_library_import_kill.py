"""``manage.py kollus_import`` as it is run: the example site's command in its own process on a
file SQLite database, against the sandbox over HTTP with Kollus's real rate limit, killed
with SIGKILL while it waits for page 2 of a 300-media channel, then run again: it resumes
at page 2 once the dead process's lease has expired and ends with exactly 300 rows."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "example_site"

pytestmark = pytest.mark.xdist_group("library-import-kill")


def manage(env: dict[str, str], *args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SITE / "manage.py"), *args],
        cwd=SITE,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        **kwargs,
    )


def query(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db, timeout=20) as connection:
        return connection.execute(sql).fetchall()


def test_a_killed_import_resumes_at_its_page_and_ends_with_300_rows(sandbox, tmp_path):
    db = tmp_path / "site.sqlite3"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL"))}
    env.update(
        EXAMPLE_SITE_DB=str(db),
        KOLLUS_SANDBOX_URL=sandbox.base_url,
        PYTHONPATH=os.pathsep.join([str(ROOT), str(SITE)]),
        PYTHONUNBUFFERED="1",
    )
    for step in (("migrate", "--noinput"), ("createcachetable",)):
        done = manage(env, *step)
        assert done.returncode == 0, done.stderr[-2000:]
    seeded = requests.post(sandbox.base_url + "/_sandbox/media", json={"count": 300}, timeout=5)
    assert seeded.status_code == 201
    # Page 2 takes long to come: the process is killed while it waits for it.
    sandbox.faults.set("kollus.media_list", latency=30, after=1, times=1)

    process = subprocess.Popen(
        [sys.executable, str(SITE / "manage.py"), "kollus_import", "--no-progress"],
        cwd=SITE,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not query(db, "SELECT id FROM wagtail_kollus_kollusimportrun WHERE next_page = 2"):
            assert process.poll() is None, process.stdout.read()
            assert time.monotonic() < deadline, "page 1 was never written"
            time.sleep(0.1)
        while sandbox.request_count("kollus.media_list") < 2:  # asking for page 2
            time.sleep(0.05)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    assert query(db, "SELECT COUNT(*) FROM wagtail_kollus_kollusmedia") == [(100,)]
    assert query(db, "SELECT status, next_page FROM wagtail_kollus_kollusimportrun") == [
        ("running", 2)
    ]

    # While the dead process's lease lasts, nobody else runs the import twice.
    again = manage(env, "kollus_import", "--no-progress")
    # (The example site speaks Korean: the message names the dead process's host:pid.)
    assert again.returncode == 1 and f":{process.pid})" in again.stderr
    # The lease expires (two minutes on the clock; moved here): the run is taken over.
    query(db, "UPDATE wagtail_kollus_kollusimportrun SET claimed_until = '2000-01-01 00:00:00'")
    resumed = manage(env, "kollus_import", "--no-progress")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert sandbox.request_count("kollus.media_list") == 2 + 2  # pages 2 and 3 once more
    assert query(db, "SELECT COUNT(DISTINCT upload_file_key) FROM wagtail_kollus_kollusmedia") == [
        (300,)
    ]
    assert query(db, "SELECT status, seen FROM wagtail_kollus_kollusimportrun") == [
        ("finished", 300)
    ]
