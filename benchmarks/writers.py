"""Benchmark group ``writers``: do processes that write different video rows wait for each other?

Callback workers, a sync and editors choosing videos write ``KollusMedia`` and ``KollusVideo``
rows at the same time, each their own rows. Nothing about rendering may make them queue on a
shared row or deadlock. On the throwaway PostgreSQL of ``scripts/postgres.sh`` (fsync off), N
worker processes each own one library video and its media and, for a fixed time, repeat what a
Kollus callback does to them, in one transaction: re-read the media row ``FOR UPDATE`` and save
it, save the video row, stamp ``last_callback_at`` with a queryset ``update()`` — every other
transaction in the opposite order (video first), so that concurrent writers take row locks in
both orders.

* ``writers_deadlocks``: transactions PostgreSQL aborted with "deadlock detected" in all runs
  (target 0).
* ``writers_scaling_ratio``: transactions per second with 4 writers ÷ with 1 (target ≥ 1.5).
  On a 2-core machine the 4 writers share 2 cores with PostgreSQL, so the ceiling is about 2;
  a shared row lock would hold it near 1.
* ``writers_lock_wait_share``: of the samples (every 20 ms) of the writers' PostgreSQL
  backends during the 4-writer run that were busy, the share waiting for a lock another
  writer holds (informational; independent of CPU: 0 when writers never queue on each other).
* ``writers_backend_waits_for_writer_N`` and ``writers_backend_running_N`` (informational):
  of all samples of the writers' backends (any state), the share waiting for their writer
  process to send the next statement, and the share running a statement on a CPU.
* ``writers_cpu_ratio`` (informational): CPU seconds the 4 writers used together ÷ what the
  1 writer used. Close to ``writers_scaling_ratio`` means the throughput followed the CPU the
  writers got, not a lock.
* ``writers_tps_1``, ``writers_tps_4``, ``writers_cpu_seconds_1``, ``writers_cpu_seconds_4``
  (informational): the figures themselves.

**Each writer runs in its own session** (``start_new_session=True``), as the PostgreSQL
backends do (the postmaster gives each its own). Where the kernel shares CPU between sessions
(``sched_autogroup``, on by default in most distributions) and other work keeps the cores
busy, writers started in the benchmark's session form one scheduling group: 4 of them get
about the CPU that 1 got, and the ratio measures the scheduler instead of the code. Measured
on a shared 2-core machine (load average 4-11 from other work), with no lock wait in any run:
in the benchmark's session 0.87, 0.74 and 1.01; each in its own session 2.29, 1.85, 1.59, 1.27,
1.32, 1.53, 1.90, 1.63, 1.98 and 2.79 (runs of 15-20 s). The ratio follows the CPU the writers
got (``writers_cpu_ratio`` 1.7-2.9 in the same runs), and their backends spend 81-97 % of the
time waiting for their writer to send the next statement: the bound is the writers' own CPU
(about 2 ms of Django per transaction) on a shared machine, not the database and not a lock. On
an idle machine both ways agree; in production the writers are django-q2 workers and web
processes, and the measure of whether they queue on each other is the lock-wait share.

Environment: ``BENCH_WRITERS_SECONDS`` (each run's length, default 20), ``BENCH_WRITERS_DATABASE_URL``
(use this PostgreSQL instead of starting one; it must be a throwaway database).
``python -m benchmarks.writers worker …`` is the worker process (internal).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from . import ROOT

TARGETS = {
    "writers_deadlocks": ("<=", 0),
    "writers_scaling_ratio": (">=", 1.5),
}

WRITER_COUNTS = (1, 4)


@contextmanager
def throwaway_postgres() -> Iterator[str]:
    """``scripts/postgres.sh``'s cluster for the duration; yields its DATABASE_URL."""
    script = ROOT / "scripts" / "postgres.sh"
    output = subprocess.run(
        ["bash", str(script)], check=True, capture_output=True, text=True
    ).stdout.split()
    pgdata = output[0].removeprefix("PGDATA=")
    try:
        yield output[-1]
    finally:
        subprocess.run(["bash", str(script), "stop", pgdata], check=False, capture_output=True)


def _django_env(database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": database_url,
        "PYTHONPATH": str(ROOT),
    }


def _seed_script(count: int) -> str:
    return f"""
import django, json
django.setup()
from wagtail_kollus.models import KollusMedia, KollusVideo, MediaState, VideoSource
pairs = []
for n in range({count}):
    media = KollusMedia.objects.create(
        upload_file_key=f"writers-ufk-{{n}}", title=f"Writer {{n}}",
        media_content_key=f"writers-mck-{{n}}", state=MediaState.READY)
    video = KollusVideo.objects.create(
        source=VideoSource.LIBRARY, title=f"Writer {{n}}", media=media,
        media_content_key=media.media_content_key)
    pairs.append([media.pk, video.pk])
print(json.dumps(pairs))
"""


def prepare(database_url: str, count: int) -> list[list[int]]:
    """Migrate the plugin's tables into ``database_url`` and create ``count`` media/video pairs."""
    env = _django_env(database_url)
    subprocess.run(
        [sys.executable, "-m", "django", "migrate", "wagtail_kollus", "--noinput", "-v", "0"],
        check=True,
        env=env,
        cwd=ROOT,
    )
    seeded = subprocess.run(
        [sys.executable, "-c", _seed_script(count)],
        check=True,
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    return json.loads(seeded.stdout.strip().splitlines()[-1])


def run_writers(database_url: str, pairs: list[list[int]], seconds: float) -> dict[str, float]:
    """One worker process per pair, all writing for ``seconds``; their summed counts."""
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "benchmarks.writers",
                "worker",
                str(media),
                str(video),
                str(seconds),
            ],
            env=_django_env(database_url),
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            # Each writer in its own session, so its own scheduler group (see the docstring).
            start_new_session=True,
        )
        for media, video in pairs
    ]
    # A start line once every worker has imported Django and connected, so that they all
    # write during the same seconds however long their start-up took on a busy machine.
    for worker in workers:
        if worker.stdout.readline().strip() != "ready":
            raise RuntimeError("a writer process did not start")
    for worker in workers:
        worker.stdin.write("go\n")
        worker.stdin.flush()
    totals = {"commits": 0, "deadlocks": 0, "errors": 0, "cpu_seconds": 0.0}
    for worker in workers:
        out, _ = worker.communicate(timeout=seconds + 120)
        if worker.returncode != 0:
            raise RuntimeError(f"a writer process failed ({worker.returncode})")
        for name, value in json.loads(out.strip().splitlines()[-1]).items():
            totals[name] += value
    return {**totals, "tps": totals["commits"] / seconds}


@contextmanager
def lock_wait_sampler(database_url: str) -> Iterator[dict[str, int]]:
    """Sample what the other backends of ``database_url`` wait for, until the block ends."""
    import psycopg

    counts = {"busy": 0, "lock": 0, "all": 0, "client": 0, "running": 0}
    stop = threading.Event()
    query = (
        "SELECT state, wait_event_type FROM pg_stat_activity"
        " WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
    )

    def sample() -> None:
        with psycopg.connect(database_url, autocommit=True) as connection:
            while not stop.wait(0.02):
                for state, wait_type in connection.execute(query).fetchall():
                    counts["all"] += 1
                    # Idle, or idle in a transaction: waiting for its writer's next statement.
                    counts["client"] += wait_type == "Client"
                    counts["running"] += state == "active" and wait_type is None
                    if state in ("active", "idle in transaction"):
                        counts["busy"] += 1
                        counts["lock"] += wait_type == "Lock"

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield counts
    finally:
        stop.set()
        sampler.join(timeout=5)


def measure(database_url: str, seconds: float) -> dict[str, float]:
    pairs = prepare(database_url, max(WRITER_COUNTS))
    results: dict[str, float] = {}
    deadlocks = errors = 0
    for count in WRITER_COUNTS:
        with lock_wait_sampler(database_url) as waits:
            counts = run_writers(database_url, pairs[:count], seconds)
        if count == max(WRITER_COUNTS):
            results["writers_lock_wait_share"] = waits["lock"] / max(1, waits["busy"])
        results[f"writers_backend_waits_for_writer_{count}"] = waits["client"] / max(
            1, waits["all"]
        )
        results[f"writers_backend_running_{count}"] = waits["running"] / max(1, waits["all"])
        results[f"writers_tps_{count}"] = counts["tps"]
        results[f"writers_cpu_seconds_{count}"] = counts["cpu_seconds"]
        deadlocks += counts["deadlocks"]
        errors += counts["errors"]
    results["writers_deadlocks"] = deadlocks
    results["writers_other_errors"] = errors
    most, fewest = max(WRITER_COUNTS), min(WRITER_COUNTS)
    results["writers_scaling_ratio"] = (
        results[f"writers_tps_{most}"] / results[f"writers_tps_{fewest}"]
    )
    results["writers_cpu_ratio"] = results[f"writers_cpu_seconds_{most}"] / max(
        1e-9, results[f"writers_cpu_seconds_{fewest}"]
    )
    return results


def run() -> dict[str, float]:
    seconds = float(os.environ.get("BENCH_WRITERS_SECONDS", "20"))
    given = os.environ.get("BENCH_WRITERS_DATABASE_URL")
    if given:
        return measure(given, seconds)
    with throwaway_postgres() as database_url:
        return measure(database_url, seconds)


# --- the worker process ----------------------------------------------------------------------


def _worker(media_pk: int, video_pk: int, seconds: float) -> dict[str, float]:
    import django

    django.setup()
    from django.db import DatabaseError, transaction
    from django.utils import timezone

    from wagtail_kollus.models import KollusMedia, KollusVideo, MediaState

    def touch_media() -> None:
        media = KollusMedia.objects.select_for_update().get(pk=media_pk)
        media.state = MediaState.READY
        media.last_refreshed_at = timezone.now()
        media.save()

    def touch_video() -> None:
        video = KollusVideo.objects.select_for_update().get(pk=video_pk)
        video.is_available = True
        video.last_fetched_at = timezone.now()
        video.save()

    counts: dict[str, float] = {"commits": 0, "deadlocks": 0, "errors": 0}
    KollusMedia.objects.filter(pk=media_pk).exists()  # connected before the clock starts
    print("ready", flush=True)
    sys.stdin.readline()
    deadline = time.time() + seconds
    cpu_started = time.process_time()
    turn = 0
    while time.time() < deadline:
        turn += 1
        steps = (touch_media, touch_video) if turn % 2 else (touch_video, touch_media)
        try:
            with transaction.atomic():
                for step in steps:
                    step()
                KollusMedia.objects.filter(pk=media_pk).update(last_callback_at=timezone.now())
        except DatabaseError as error:
            kind = "deadlocks" if "deadlock detected" in str(error) else "errors"
            counts[kind] += 1
            continue
        counts["commits"] += 1
    counts["cpu_seconds"] = time.process_time() - cpu_started
    return counts


if __name__ == "__main__" and sys.argv[1:2] == ["worker"]:
    media, video, length = sys.argv[2:5]
    print(json.dumps(_worker(int(media), int(video), float(length))))
