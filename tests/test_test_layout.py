"""The test suite's own layout: no test module imports another.

Importing a test module runs its module-level code, drags its fixtures and constants along by
name and makes pytest's view of it depend on import order; shared helpers belong in
``tests/factories.py`` (rows and pages), ``conftest.py`` (fixtures) or a ``tests/*_support.py``
module (see CONTRIBUTING.md, "Where a change goes").
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def all_test_modules() -> dict[str, Path]:
    """``{dotted name: path}`` of every ``test_*.py`` under ``tests/``."""
    return {module_name(path): path for path in sorted(TESTS.rglob("test_*.py"))}


def imported_modules(source: str, importer: str) -> set[str]:
    """Every dotted name ``source`` (the module ``importer``) may import, anywhere in it:
    ``from x import y`` counts as both ``x`` and ``x.y`` (``y`` may be a submodule)."""
    package = importer.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def modules_imported_by(path: Path, modules: dict[str, Path]) -> list[str]:
    name = module_name(path)
    imported = imported_modules(path.read_text(encoding="utf-8"), name)
    return sorted(other for other in imported if other in modules and other != name)


def test_no_test_module_imports_another():
    modules = all_test_modules()
    offenders = {
        str(path.relative_to(ROOT)): found
        for path in modules.values()
        if (found := modules_imported_by(path, modules))
    }
    assert not offenders, (
        f"Test modules import other test modules: {offenders}. Move the shared helpers to "
        "tests/factories.py, a conftest.py fixture or a tests/*_support.py module."
    )


def test_the_check_sees_every_form_of_import():
    modules = {"tests.test_a": Path("a"), "tests.browser.test_b": Path("b")}
    # (source, the module it is in, the test module it imports)
    forms = [
        ("import tests.test_a", "tests.test_c", "tests.test_a"),
        ("from tests.test_a import helper", "tests.test_c", "tests.test_a"),
        ("from tests import test_a", "tests.test_c", "tests.test_a"),
        ("from .test_a import helper", "tests.test_c", "tests.test_a"),
        ("from ..test_a import helper", "tests.browser.test_c", "tests.test_a"),
        ("from . import test_b", "tests.browser.test_c", "tests.browser.test_b"),
        ("def later():\n    from tests.browser.test_b import x", "tests.test_c", "tests.browser.test_b"),
    ]
    for source, importer, expected in forms:
        assert imported_modules(source, importer) & set(modules) == {expected}, source
    shared = imported_modules("from tests.factories import make_video", "tests.test_c")
    assert not shared & set(modules)
