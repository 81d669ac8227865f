"""Every statistics screen and export speaks the editor's language, whatever the site's.

An editor who chose English reads no Hangul or kana on the statistics screens and in their
exports, even on a site whose ``LANGUAGE_CODE`` is Korean; an editor who chose Korean finds none
of the plugin's own English strings left untranslated. The site's language is deliberately the
other one in each case: a string frozen at import time or rendered after the view returned
(outside Wagtail's per-user language) comes out in the wrong language and fails here.
"""

from __future__ import annotations

import csv
import gettext
import html
import io
import re
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from django.urls import reverse

from tests.factories import editor_speaking
from tests.stats_support import (
    completed_keys,
    stats_sandbox,  # noqa: F401  (the fixture ``kollus``)
)
from wagtail_kollus.models import KollusMedia

pytestmark = pytest.mark.django_db

CATALOGUE = (
    Path(__file__).resolve().parent.parent / "wagtail_kollus/locale/ko/LC_MESSAGES/django.mo"
)
HANGUL_OR_KANA = re.compile(r"[\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\uac00-\ud7a3\uff66-\uff9f]")
# Video titles, upload keys and numbers are data, not interface; the sandbox's media titles are
# English, so a Korean word on an English screen can only be the interface's.


def screens(client, kollus) -> Iterator[tuple[str, str]]:
    """(name, visible text) of every statistics screen, in the client's language."""
    known, unknown = completed_keys(kollus)[:2]
    KollusMedia.objects.create(upload_file_key=known, title="Mirrored video")
    report = reverse("wagtail_kollus_stats:report")
    pages = {
        "report": (report, {"range": "7"}),
        "report, a year": (report, {"range": "365"}),
        "report, refused range": (
            report,
            {"range": "custom", "start": "2026-02-02", "end": "2026-01-01"},
        ),
        "report results": (reverse("wagtail_kollus_stats:report_results"), {"range": "30"}),
        "video in the library": (
            reverse("wagtail_kollus_stats:video", args=[known]),
            {"range": "30"},
        ),
        "video not in the library": (
            reverse("wagtail_kollus_stats:video", args=[unknown]),
            {"range": "7"},
        ),
    }
    for name, (url, query) in pages.items():
        response = client.get(url, query)
        assert response.status_code == 200, name
        yield name, visible_text(response.content.decode())
    dashboard = client.get(reverse("wagtailadmin_home")).content.decode()
    panel = re.search(r'id="kollus-statistics-section".*?</section>', dashboard, re.S)
    assert panel, "no statistics panel on the dashboard"
    yield "dashboard panel", visible_text(panel.group(0))
    for export in ("csv", "xlsx"):
        yield f"{export} export", export_text(client.get(report, {"range": "30", "export": export}))


def visible_text(markup: str) -> str:
    """What a reader meets: text, and the attributes read aloud or shown as tooltips."""
    markup = re.sub(r"<(script|style)\b.*?</\1>", " ", markup, flags=re.S)
    attributes = re.findall(r'\b(?:aria-label|title|alt|placeholder)="([^"]*)"', markup)
    text = re.sub(r"<[^>]+>", " ", markup)
    return normalise(" ".join([text, *attributes]))


def export_text(response) -> str:
    body = b"".join(response.streaming_content)
    if response["Content-Type"].startswith("text/csv"):
        rows = list(csv.reader(io.StringIO(body.decode())))
    else:
        rows = list(openpyxl.load_workbook(io.BytesIO(body)).active.iter_rows(values_only=True))
    return normalise(" ".join(str(cell) for row in rows for cell in row if cell is not None))


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(text)).strip()


def plugin_strings() -> list[tuple[str, list[str], re.Pattern]]:
    """(msgid, its literal parts, a pattern matching it as rendered) for the plugin's
    translated strings.

    Placeholders match any text; one-word msgids are left out (a column called "Views" may
    legitimately sit next to a video titled "Views of Seoul").
    """
    with CATALOGUE.open("rb") as fh:
        catalogue = gettext.GNUTranslations(fh)
    strings, seen = [], set()
    for key, translation in catalogue._catalog.items():
        msgid = key[0] if isinstance(key, tuple) else key  # plural forms: (singular, n)
        if not msgid or msgid == translation or msgid in seen:
            continue
        seen.add(msgid)
        parts = re.split(r"%\(\w+\)[sd]|%[sd]|\{\w*\}", normalise(msgid))
        if len(" ".join(parts).split()) < 2:
            continue
        pattern = r".{1,80}?".join(re.escape(part) for part in parts)
        strings.append((msgid, [p.strip() for p in parts if p.strip()], re.compile(pattern)))
    return strings


def test_an_english_editor_reads_no_korean_on_a_korean_site(
    kollus, client, django_user_model, settings
):
    settings.LANGUAGE_CODE = "ko"
    editor_speaking(client, django_user_model, "en")

    for name, text in screens(client, kollus):
        foreign = HANGUL_OR_KANA.findall(text)
        assert not foreign, f"{name}: {''.join(foreign)[:40]!r} in {text[:400]!r}"


def test_a_korean_editor_finds_no_plugin_string_left_in_english(
    kollus, client, django_user_model, settings
):
    settings.LANGUAGE_CODE = "en"
    editor_speaking(client, django_user_model, "ko")
    strings = plugin_strings()
    assert len(strings) > 100  # the catalogue was read

    for name, text in screens(client, kollus):
        untranslated = [
            msgid
            for msgid, parts, pattern in strings
            if all(part in text for part in parts) and pattern.search(text)  # cheap test first
        ]
        assert not untranslated, f"{name}: {untranslated}"
