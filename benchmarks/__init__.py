"""The numbers wagtail-kollus promises, measured as ratios within one run.

Each group is a module ``benchmarks/<group>.py`` exposing ``run() -> dict[str, float]`` and,
optionally, ``TARGETS = {"metric": ("<=", 1.15)}``. ``python -m benchmarks [--only GROUP]``
runs them, writes ``benchmarks/results/<group>.json`` and prints a table. Ratios (ours ÷ a
baseline measured in the same run on the same machine) stay meaningful on any hardware.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = Path(__file__).resolve().parent / "results"
GROUPS = ("clients", "render", "chooser", "sync", "media", "stats")


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
