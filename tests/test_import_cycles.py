"""No import cycle between the modules of ``wagtail_kollus`` (module-level imports).

A cycle is two modules that each need the other to be loaded first: whichever is imported
first sees the other half-built, and the fix people reach for (an import inside a function)
only hides it. The graph below is read from the source with ``ast``: every import executed
when a module loads (at module level, in ``if``/``try`` blocks and class bodies, not under
``if TYPE_CHECKING:`` and not inside functions), plus the package ``__init__`` modules an
import runs on the way.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "wagtail_kollus"


def _module_names(package: Path) -> dict[str, Path]:
    names = {}
    for path in package.rglob("*.py"):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _load_time_imports(body: list[ast.stmt]):
    """The import statements that run when a module with this body is loaded."""
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If):
            if not _is_type_checking(node.test):
                yield from _load_time_imports(node.body)
            yield from _load_time_imports(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody):
                yield from _load_time_imports(block)
            for handler in node.handlers:
                yield from _load_time_imports(handler.body)
        elif isinstance(node, ast.ClassDef | ast.With):
            yield from _load_time_imports(node.body)


def import_graph(package: Path) -> dict[str, set[str]]:
    """Module → the package's modules it imports when it is loaded."""
    modules = _module_names(package)
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        for node in _load_time_imports(ast.parse(path.read_text()).body):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                if node.level:
                    base = name.split(".")
                    base = base[: len(base) - node.level + (1 if is_package else 0)]
                    module = ".".join(base + ([node.module] if node.module else []))
                else:
                    module = node.module or ""
                # ``from pkg import name``: name may be a submodule.
                targets = [module] + [f"{module}.{alias.name}" for alias in node.names]
            for target in targets:
                # The importer's own packages are loaded already (``from . import sibling``
                # needs the sibling, not the package).
                if target not in modules or name == target or name.startswith(target + "."):
                    continue
                graph[name].add(target)
                # Importing a.b.c runs a/__init__ and a/b/__init__ first, unless they are
                # the importer's own packages (already being loaded).
                parts = target.split(".")
                for depth in range(1, len(parts)):
                    parent = ".".join(parts[:depth])
                    if parent in modules and not name.startswith(parent + "."):
                        graph[name].add(parent)
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def _describe(graph: dict[str, set[str]], cycle: list[str]) -> str:
    edges = [f"{a} -> {b}" for a in cycle for b in sorted(graph[a]) if b in cycle]
    return "; ".join(edges)


def test_wagtail_kollus_has_no_import_cycle():
    graph = import_graph(PACKAGE)
    assert "wagtail_kollus.accounts" in graph and graph["wagtail_kollus.media.tasks"]
    cycles = find_cycles(graph)
    assert cycles == [], "\n".join(_describe(graph, cycle) for cycle in cycles)


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root / "pkg"


def test_the_check_finds_cycles_through_every_kind_of_import(tmp_path):
    package = _write(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "from .b import thing\n",
            "pkg/b.py": "from pkg import c\n",
            "pkg/c.py": "try:\n    import pkg.a\nexcept ImportError:\n    pass\n",
            "pkg/sub/__init__.py": "from ..d import x\n",
            "pkg/sub/leaf.py": "",
            "pkg/d.py": "class D:\n    from .sub import leaf\n",
        },
    )
    cycles = find_cycles(import_graph(package))
    assert ["pkg.a", "pkg.b", "pkg.c"] in cycles
    # d imports sub.leaf, which runs sub/__init__, which imports d.
    assert ["pkg.d", "pkg.sub"] in cycles


def test_the_check_ignores_imports_that_do_not_run_at_load_time(tmp_path):
    package = _write(
        tmp_path,
        {
            "pkg/__init__.py": "from .a import A\n",
            "pkg/a.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from .b import B\n"
                "class A:\n    def f(self):\n        from .b import B\n"
            ),
            "pkg/b.py": "from .a import A\n",
            # A submodule importing a sibling does not run its own package again.
            "pkg/c.py": "from . import a\n",
        },
    )
    assert find_cycles(import_graph(package)) == []
