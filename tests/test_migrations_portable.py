"""Migrations load on every Wagtail the package supports (7.0 LTS to 8.x), and on every later
version of the package itself.

Wagtail 8 added the swappable ``WAGTAIL_PAGE_MODEL`` setting; on 7.x it does not exist, and a
migration that reads it at import fails ``migrate`` outright ("'Settings' object has no
attribute 'WAGTAIL_PAGE_MODEL'"). ``make test`` runs Wagtail 8 only, so this catches it
before the matrix's 7.0 cell does (migration 0014 did it once).

A migration is frozen: it must do the same thing on a site that installs the package years
later. One that imports the package's own code (0014 imported ``wagtail_kollus.messages``
once) changes, or breaks, when that code does. No migration imports any of the package's
modules (not even a model field: the package has no custom one), so none is allowed.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MIGRATION_DIRS = [
    ROOT / "wagtail_kollus" / "migrations",
    ROOT / "tests" / "testapp" / "migrations",
    ROOT / "example_site" / "videos" / "migrations",
]
MIGRATIONS = sorted(path for folder in MIGRATION_DIRS for path in folder.glob("0*.py"))


def migration_id(path: Path) -> str:
    return f"{path.parent.parent.name}/{path.name}"


def test_every_migration_folder_is_found():
    assert len(MIGRATIONS) >= 14


@pytest.mark.parametrize("path", MIGRATIONS, ids=migration_id)
def test_no_migration_reads_wagtail_page_model_directly(path):
    source = path.read_text()
    assert not re.search(r"settings\.WAGTAIL_PAGE_MODEL\b", source), (
        f"{path.relative_to(ROOT)} reads settings.WAGTAIL_PAGE_MODEL, which Wagtail 7.x lacks: "
        'use getattr(settings, "WAGTAIL_PAGE_MODEL", "wagtailcore.Page") as 0001 does'
    )


# What of the package a migration may import: its migrations only; no migration needs more.
# (The StreamFields of tests/testapp and example_site name
# "wagtail_kollus.blocks.KollusVideoChooserBlock" as a dotted path Wagtail resolves itself, not
# an import; a block is public API and keeps its path.) A custom model field would be listed
# here, as it must be importable by the migrations that use it.
ALLOWED_PACKAGE_IMPORTS: frozenset[str] = frozenset({"wagtail_kollus.migrations"})


def _imported_modules(source: str, package: str) -> set[str]:
    """Every module ``source`` (a module of ``package``) imports, anywhere in it (a function's
    lazy import too), relative imports made absolute."""
    modules = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(part for part in (base, node.module) if part)
            # "from wagtail_kollus import messages" imports wagtail_kollus.messages.
            modules.update(f"{module}.{alias.name}" for alias in node.names)
    return modules


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _package_code(modules: set[str]) -> set[str]:
    """The package's own modules among ``modules``, but for those a migration may import."""
    return {
        module
        for module in modules
        if _within(module, "wagtail_kollus")
        and not any(_within(module, allowed) for allowed in ALLOWED_PACKAGE_IMPORTS)
    }


@pytest.mark.parametrize("path", MIGRATIONS, ids=migration_id)
def test_no_migration_imports_the_package_s_code(path):
    package = ".".join(path.relative_to(ROOT).parent.parts)
    imported = _package_code(_imported_modules(path.read_text(), package))
    assert not imported, (
        f"{path.relative_to(ROOT)} imports {sorted(imported)}: a migration must not change when "
        "the package does; copy what it needs into the migration (as 0014 does)"
    )


@pytest.mark.parametrize(
    ("source", "flagged"),
    [
        ("from wagtail_kollus.messages import Message", True),
        ("import wagtail_kollus.messages", True),
        ("from wagtail_kollus import messages", True),
        ("from .. import messages", True),
        ("from ..messages import columns", True),
        ("def forwards(apps, schema_editor):\n    from wagtail_kollus import conf", True),
        ("from django.db import migrations", False),
        ("from . import other_migration", False),
        ("from wagtail_kollus.migrations import other_migration", False),
    ],
)
def test_the_import_check_sees_every_way_of_importing(source, flagged):
    imported = _package_code(_imported_modules(source, "wagtail_kollus.migrations"))
    assert bool(imported) is flagged
