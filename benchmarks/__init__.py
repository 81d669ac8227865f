"""The numbers wagtail-kollus promises, measured as ratios within one run.

Each group is a module ``benchmarks/<group>.py`` exposing ``run() -> dict[str, float]`` and,
optionally, ``TARGETS = {"metric": ("<=", 1.15)}``. ``python -m benchmarks [--only GROUP]``
runs them, writes ``benchmarks/results/<group>.json`` and prints a table. Ratios (ours ÷ a
baseline measured in the same run on the same machine) stay meaningful on any hardware.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

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
