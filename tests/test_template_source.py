"""Template source mistakes that render as text on an editor's screen."""

from __future__ import annotations

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parent.parent / "wagtail_kollus" / "templates"


def test_no_multiline_comment_tags():
    # Django's {# … #} ends on its own line; one spread over two lines is printed as it is
    # (the statistics screen showed "{# The date inputs show … #}" to editors).
    unclosed = [
        f"{path.relative_to(TEMPLATES)}:{number}"
        for path in sorted(TEMPLATES.rglob("*.html"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"\{#(?!.*#\})", line)
    ]
    assert not unclosed, f"use {{% comment %}} for comments over several lines: {unclosed}"
