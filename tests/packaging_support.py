"""What the packaging tests share: the release artefacts, built once per xdist worker, a fresh
virtualenv that sees the suite's dependencies but not the checkout, and a ``wagtail start``
project in it.

The tests that use it carry ``pytest.mark.xdist_group(GROUP)``, so they run on one worker and
the (slow) build happens once; the artefacts live under that worker's own temp directory.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GROUP = "packaging"


def built_distributions(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(sdist, wheel) as ``python -m build`` makes them: the wheel is built from the sdist, so
    a file the sdist leaves out is missing from the wheel too."""
    out = tmp_path_factory.getbasetemp() / "kollus-dist"
    if not out.exists():
        partial = tmp_path_factory.mktemp("kollus-dist-partial")
        subprocess.run(
            [sys.executable, "-m", "build", "--outdir", str(partial), str(ROOT)],
            check=True, capture_output=True,
        )
        partial.rename(out)  # only a finished build is ever reused
    (sdist,) = out.glob("wagtail_kollus-*.tar.gz")
    (wheel,) = out.glob("wagtail_kollus-*.whl")
    return sdist, wheel


def fresh_virtualenv(env_dir: Path) -> Path:
    """A new virtualenv whose ``python`` it returns. A ``.pth`` line lends it the suite's
    installed dependencies (Wagtail and the rest, already downloaded), so what gets installed
    into it is measured, not PyPI; the suite's editable wagtail_kollus is not visible in it.
    It has no pip of its own (seeding one takes longer than the rest): use ``pip_command``."""
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    purelib = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    ours = subprocess.run([sys.executable, "-c", purelib],
                          check=True, capture_output=True, text=True).stdout.strip()
    theirs = subprocess.run([str(python), "-c", purelib],
                            check=True, capture_output=True, text=True).stdout.strip()
    (Path(theirs) / "suite-deps.pth").write_text(ours + "\n")
    return python


def pip_command(python: Path) -> list[str]:
    """``pip``, for the virtualenv of ``python``: the suite's pip, told to install there."""
    return [sys.executable, "-m", "pip", "--python", str(python)]


def project_environment() -> dict[str, str]:
    """The environment a project's commands run in: none of the suite's Django settings or
    import paths leak into it."""
    env = {
        k: v for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "WAGTAIL_KOLLUS_")) and k != "PYTHONPATH"
    }
    env["PYTHONPATH"] = ""
    return env


def wagtail_start(python: Path, where: Path, env: dict[str, str], name: str = "mysite") -> Path:
    """``wagtail start <name>`` into ``where/site``; returns the project directory."""
    project = where / "site"
    project.mkdir()
    subprocess.run(
        [str(python), "-c", "from wagtail.bin.wagtail import main; main()",
         "start", name, str(project)],
        check=True, env=env, cwd=where, capture_output=True,
    )
    return project
