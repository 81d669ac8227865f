"""Regenerate the settings table of docs/configuration.md from wagtail_kollus/conf.py.

Each setting's description is its trailing comment, or the comment block just above it, so the
code stays the one place where a setting is described. Run: ``python scripts/settings_reference.py``.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONF = ROOT / "wagtail_kollus" / "conf.py"
DOC = ROOT / "docs" / "configuration.md"
BEGIN, END = "<!-- settings-table:begin -->", "<!-- settings-table:end -->"


def settings_with_descriptions() -> list[tuple[str, str, str]]:
    source = CONF.read_text()
    lines = source.splitlines()
    comments = {
        tok.start[0]: tok.string.lstrip("#").strip()
        for tok in tokenize.generate_tokens(io.StringIO(source).readline)
        if tok.type == tokenize.COMMENT
    }
    tree = ast.parse(source)
    (defaults,) = [
        node.value for node in ast.walk(tree)
        if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", "") == "DEFAULTS"
    ]
    rows = []
    for key, value in zip(defaults.keys, defaults.values, strict=True):
        line = lines[key.lineno - 1]
        trailing = comments.get(key.lineno, "") if not line.strip().startswith("#") else ""
        above = []
        index = key.lineno - 2
        while index >= 0 and lines[index].strip().startswith("#") and "---" not in lines[index]:
            above.insert(0, lines[index].strip().lstrip("#").strip())
            index -= 1
        description = trailing or " ".join(above)
        rows.append((key.value, ast.get_source_segment(source, value), description))
    return rows


def table() -> str:
    out = ["| setting | default | what it does |", "|---|---|---|"]
    for name, default, description in settings_with_descriptions():
        description = re.sub(r"\|", "\\|", description)
        out.append(f"| `{name}` | `{default}` | {description} |")
    return "\n".join(out)


def main() -> None:
    text = DOC.read_text()
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    DOC.write_text(text[:start] + "\n" + table() + "\n" + text[end:])


if __name__ == "__main__":
    main()
