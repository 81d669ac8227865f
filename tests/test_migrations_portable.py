"""Migrations load on every Wagtail the package supports (7.0 LTS to 8.x).

Wagtail 8 added the swappable ``WAGTAIL_PAGE_MODEL`` setting; on 7.x it does not exist, and a
migration that reads it at import fails ``migrate`` outright ("'Settings' object has no
attribute 'WAGTAIL_PAGE_MODEL'"). ``make test`` runs Wagtail 8 only, so this catches it
before the matrix's 7.0 cell does (migration 0014 did it once).
"""

from __future__ import annotations

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


def test_every_migration_folder_is_found():
    assert len(MIGRATIONS) >= 14


@pytest.mark.parametrize("path", MIGRATIONS, ids=lambda path: f"{path.parent.parent.name}/{path.name}")
def test_no_migration_reads_wagtail_page_model_directly(path):
    source = path.read_text()
    assert not re.search(r"settings\.WAGTAIL_PAGE_MODEL\b", source), (
        f"{path.relative_to(ROOT)} reads settings.WAGTAIL_PAGE_MODEL, which Wagtail 7.x lacks: "
        'use getattr(settings, "WAGTAIL_PAGE_MODEL", "wagtailcore.Page") as 0001 does'
    )
