"""The distribution: the sdist carries everything the wheel is built from, the wheel carries
templates, static files and translations, and installed into a fresh virtualenv it imports and
passes ``manage.py check`` in a fresh ``wagtail start`` project with the app added. Slow (a build,
a venv and a pip install), so it runs once, on one worker (tests/packaging_support.py)."""

from __future__ import annotations

import subprocess
import tarfile
import zipfile

import pytest

from tests.packaging_support import (
    GROUP,
    ROOT,
    built_distributions,
    fresh_virtualenv,
    pip_command,
    project_environment,
    wagtail_start,
)

pytestmark = pytest.mark.xdist_group(GROUP)


@pytest.fixture(scope="module")
def sdist(tmp_path_factory):
    return built_distributions(tmp_path_factory)[0]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    return built_distributions(tmp_path_factory)[1]


def test_sdist_contains_the_package_data_licence_and_readme(sdist):
    with tarfile.open(sdist) as archive:
        names = [name.split("/", 1)[1] for name in archive.getnames() if "/" in name]
    for required in ("README.md", "LICENSE", "pyproject.toml",
                     "wagtail_kollus/migrations/0001_initial.py"):
        assert required in names, f"{required} is not in the sdist"
    for folder in ("templates", "static", "sandbox/assets"):
        if (ROOT / "wagtail_kollus" / folder).exists():
            assert any(n.startswith(f"wagtail_kollus/{folder}/") for n in names), folder
    for mo in (ROOT / "wagtail_kollus" / "locale").rglob("*.mo"):
        assert str(mo.relative_to(ROOT)) in names, f"{mo.name} is not in the sdist"
    assert not any(n.startswith((".venv", ".nox", "build/", "dist/")) for n in names)


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
    python = fresh_virtualenv(tmp_path / "venv")
    subprocess.run([*pip_command(python), "install", "-q", "--no-deps", str(wheel)], check=True)
    env = project_environment()
    project = wagtail_start(python, tmp_path, env)
    settings_file = project / "mysite" / "settings" / "base.py"
    text = settings_file.read_text()
    text = text.replace('INSTALLED_APPS = [', 'INSTALLED_APPS = [\n    "wagtail_kollus",\n    "django_q",', 1)
    settings_file.write_text(text)
    where = subprocess.run(
        [str(python), "-c", "import wagtail_kollus, sys; print(wagtail_kollus.__file__)"],
        check=True, capture_output=True, text=True, env=env, cwd=project,
    ).stdout.strip()
    assert str(tmp_path / "venv") in where, f"wagtail_kollus imported from {where}, not the wheel"
    result = subprocess.run(
        [str(python), "manage.py", "check"], capture_output=True, text=True, env=env, cwd=project,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # With nothing configured, the checks warn (with ids and hints) instead of failing.
    assert "wagtail_kollus.W001" in result.stdout + result.stderr
