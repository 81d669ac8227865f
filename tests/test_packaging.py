"""The distribution: the wheel carries templates, static files and translations, and installed
into a fresh virtualenv it imports and passes ``manage.py check`` in a fresh ``wagtail start``
project with the app added. Slow (a venv and a pip install), so it runs once, on one worker."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.xdist_group("packaging")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
         "-w", str(out), str(ROOT)],
        check=True,
    )
    (wheel,) = out.glob("wagtail_kollus-*.whl")
    return wheel


def test_wheel_contains_templates_static_and_translations(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    for folder in ("templates", "static"):
        assert any(n.startswith(f"wagtail_kollus/{folder}/") and not n.endswith("/")
                   for n in names), f"no {folder} in the wheel"
    locale_files = [n for n in names if n.startswith("wagtail_kollus/locale/")]
    for package_dir in ("wagtail_kollus/locale",):
        if (ROOT / package_dir).exists() and any((ROOT / package_dir).rglob("*.mo")):
            assert any(n.endswith(".mo") for n in locale_files)
    assert not any(n.startswith("tests/") for n in names)


def test_wheel_installs_into_a_fresh_wagtail_project(wheel, tmp_path):
    env_dir = tmp_path / "venv"
    # System site-packages provide wagtail & co. already downloaded for the suite, so this
    # measures our package's install, not a PyPI download; the wheel itself is installed fresh.
    venv.create(env_dir, with_pip=True, system_site_packages=False)
    python = env_dir / "bin" / "python"
    site_packages = subprocess.run(
        [sys.executable, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()
    (Path(subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()) / "suite-deps.pth").write_text(site_packages + "\n")
    # The .pth line makes the suite's dependencies importable; wagtail_kollus itself comes only
    # from the wheel (the suite's editable install is a .pth into the checkout, which we skip).
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", str(wheel)], check=True
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env["PYTHONPATH"] = ""
    project = tmp_path / "site"
    project.mkdir()
    subprocess.run(
        [str(python), "-c", "from wagtail.bin.wagtail import main; main()",
         "start", "mysite", str(project)],
        check=True, env=env, cwd=tmp_path,
    )
    settings_file = project / "mysite" / "settings" / "base.py"
    text = settings_file.read_text()
    text = text.replace('INSTALLED_APPS = [', 'INSTALLED_APPS = [\n    "wagtail_kollus",\n    "django_q",', 1)
    settings_file.write_text(text)
    where = subprocess.run(
        [str(python), "-c", "import wagtail_kollus, sys; print(wagtail_kollus.__file__)"],
        check=True, capture_output=True, text=True, env=env, cwd=project,
    ).stdout.strip()
    assert str(env_dir) in where, f"wagtail_kollus imported from {where}, not the wheel"
    result = subprocess.run(
        [str(python), "manage.py", "check"], capture_output=True, text=True, env=env, cwd=project,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # With nothing configured, the checks warn (with ids and hints) instead of failing.
    assert "wagtail_kollus.W001" in result.stdout + result.stderr
