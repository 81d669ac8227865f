"""Helpers of the chooser tests: its URL names, reading its modal answers, and what it asked
the sandbox."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs

CHOOSE = "kollus_video_chooser:choose"
RESULTS = "kollus_video_chooser:choose_results"
ITEM = "kollus_video_chooser:choose_item"
CHOSEN = "kollus_video_chooser:chosen"


def modal(response) -> dict:
    """The JSON of a chooser modal step (asserting the view answered 200)."""
    assert response.status_code == 200, response.content[:500]
    return json.loads(response.content)


def listed_ids(html: str) -> list[int]:
    """The content ids a results listing links to, in order."""
    return [int(i) for i in re.findall(r'href="/admin/kollus/video-chooser/content/(\d+)/', html)]


def list_queries(sandbox) -> list[dict[str, list[str]]]:
    """The query parameters of every ``contents.list`` call the sandbox received."""
    return [parse_qs(e["query"]) for e in sandbox.requests if e["endpoint"] == "contents.list"]
