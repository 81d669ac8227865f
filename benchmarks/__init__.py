"""The numbers wagtail-kollus promises, measured as ratios within one run.

Each group is a module ``benchmarks/<group>.py`` exposing ``run() -> dict[str, float]`` and,
optionally, ``TARGETS = {"metric": ("<=", 1.15)}``. ``python -m benchmarks [--only GROUP]``
runs them, writes ``benchmarks/results/<group>.json`` and prints a table. Ratios (ours ÷ a
baseline measured in the same run on the same machine) stay meaningful on any hardware.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = Path(__file__).resolve().parent / "results"
GROUPS = (
    "clients",
    "render",
    "chooser",
    "sync",
    "media",
    "stats",
    "writers",
    "soak",
    "scale",
    "scale_sync",
    "library_import",
    "library",
    "progress_reports",
)


def setup_django(settings_module: str = "tests.settings") -> None:
    """Configure Django once for groups that need it (the test settings by default)."""
    import django
    from django.conf import settings

    for path in (str(ROOT), str(ROOT / "example_site")):
        if path not in sys.path:
            sys.path.insert(0, path)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings_module)
    if not settings.configured or not getattr(django.apps.apps, "ready", False):
        django.setup()


def interleaved_medians(
    *sides: Callable[[], object],
    loads: int,
    warmup: int = 5,
    clock: Callable[[], float] = time.perf_counter,
) -> list[float]:
    """Median seconds of each side, timed in turn within every round.

    Timing all of one side and then all of the other lets a neighbour's burst of work (these
    machines are shared) land on one side only; taking turns spreads it over every side, which
    is what a ratio between them needs. ``clock=time.thread_time`` counts only this thread's CPU
    time, for work that neither waits for I/O nor for another process: on a busy machine the
    time spent waiting for a core is then left out of both sides.
    """
    for _ in range(warmup):
        for side in sides:
            side()
    samples: list[list[float]] = [[] for _ in sides]
    for _ in range(loads):
        for taken, side in zip(samples, sides, strict=True):
            started = clock()
            side()
            taken.append(clock() - started)
    return [statistics.median(taken) for taken in samples]


# --- groups measured in a child process on PostgreSQL (scale, scale_sync) ---------------------


@contextmanager
def scale_database(variable: str = "BENCH_SCALE_DATABASE_URL") -> Iterator[str]:
    """A PostgreSQL URL for the duration: the environment ``variable``'s when set (it must be a
    throwaway server: a test database is created and dropped on it), else a cluster of
    ``scripts/postgres.sh`` started now and removed afterwards."""
    given = os.environ.get(variable)
    if given:
        yield given
        return
    from .writers import throwaway_postgres  # it starts the server: only when none is given

    with throwaway_postgres() as database_url:
        yield database_url


def run_measure_child(module: str, database_url: str, **env: str) -> dict[str, float]:
    """``python -m <module> measure`` with the test settings on ``database_url`` (and ``env``):
    the figures the child prints as JSON on its last line of standard output.

    A child, because Django's database is chosen once per process (``DATABASE_URL`` is read by
    the settings), and the parent's is the test settings' SQLite."""
    child = subprocess.run(
        [sys.executable, "-m", module, "measure"],
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "DATABASE_URL": database_url,
            "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "example_site")]),
            **env,
        },
        cwd=str(ROOT),
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    )
    return json.loads(child.stdout.strip().splitlines()[-1])


@contextmanager
def child_test_database_and_sandbox() -> Iterator[Any]:
    """In :func:`run_measure_child`'s child: Django set up with the test settings, a fresh test
    database on the configured server and a running sandbox (yielded); both removed afterwards.

    Not ``setup_test_environment()``: it instruments every template render, and the test
    client then copies the context of each one, a cost no site pays that taxes the screen
    rendering more templates (a table with a template per cell against an image grid) and
    distorts the ratios between screens. The ``render`` group leaves it out for the same reason.
    """
    setup_django()
    from django.db import connection

    from wagtail_kollus.sandbox.testing import SandboxServer

    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    sandbox = SandboxServer().start()
    try:
        yield sandbox
    finally:
        sandbox.stop()
        connection.creation.destroy_test_db(old_name, verbosity=0)
