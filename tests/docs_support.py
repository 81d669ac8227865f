"""The marked code examples of the docs, by name (``tests/test_docs_examples.py`` runs them).

A fenced block whose first line is ``# test: <name>`` (Python) or ``{# test: <name> #}`` (a
Django template) is an example; :func:`run_example` executes a Python one.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"

_FENCE = re.compile(r"^```(?P<lang>\w+)\n(?P<body>.*?)^```$", re.M | re.S)
_MARKER = re.compile(r"^(?:# test: (?P<py>[\w-]+)|\{# test: (?P<tpl>[\w-]+) #\})\s*$")


def marked_examples(page: str) -> dict[str, str]:
    """``{name: source}`` for every marked fenced block of ``docs/<page>``."""
    found: dict[str, str] = {}
    for fence in _FENCE.finditer((DOCS / page).read_text(encoding="utf-8")):
        first, _, rest = fence["body"].partition("\n")
        marker = _MARKER.match(first)
        if marker:
            name = marker["py"] or marker["tpl"]
            assert name not in found, f"{page}: two examples are named {name!r}"
            found[name] = rest
    return found


def example(page: str, name: str) -> str:
    examples = marked_examples(page)
    assert name in examples, f"docs/{page} lost its example '# test: {name}'"
    return examples[name]


def run_example(
    page: str, name: str, *, names: dict | None = None, **site_modules: ModuleType
) -> dict:
    """Execute the example; ``site_modules`` stand in for the reader's own apps, ``names`` for
    what their settings file already defines (``BASE_DIR``…)."""
    saved = {module: sys.modules.get(module) for module in site_modules}
    sys.modules.update(site_modules)
    try:
        namespace: dict = {"__name__": f"docs_example_{name.replace('-', '_')}", **(names or {})}
        exec(compile(example(page, name), f"docs/{page}:{name}", "exec"), namespace)  # noqa: S102
        return namespace
    finally:
        for module, previous in saved.items():
            if previous is None:
                sys.modules.pop(module, None)
            else:
                sys.modules[module] = previous
