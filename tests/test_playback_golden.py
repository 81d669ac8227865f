"""The player's default HTML, byte for byte, as it was before playback was rewritten.

``tests/golden/playback.json`` holds what ``KollusVideoBlock.render`` and ``{% kollus_player %}``
wrote for many option combinations, both signing modes, English and Korean, hostile titles and
the placeholders, captured from the code before ``wagtail_kollus.playback`` existed. With the
clock, the viewer and the settings fixed, every byte is deterministic, tokens and signed
references included, so a change to the markup, the claims, their order or the signing shows
up here. Every token in it must also decode with PyJWT and carry no ``exp``/``iat``/``nbf``.

To re-record after an intended markup change: ``KOLLUS_RECORD_GOLDEN=1 pytest`` this file, then
review the diff of the JSON like any other change.
"""

from __future__ import annotations

import html
import json
import os
import re
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import jwt
import pytest
from django.template import Context, Template
from django.test import RequestFactory
from django.utils import translation

from wagtail_kollus.blocks import KollusVideoBlock
from wagtail_kollus.models import KollusMedia, KollusVideo, MediaState
from wagtail_kollus.playback.viewer import user_viewer_id

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.filterwarnings("ignore::jwt.InsecureKeyLengthWarning"),
]

GOLDEN = Path(__file__).resolve().parent / "golden" / "playback.json"
RECORD = os.environ.get("KOLLUS_RECORD_GOLDEN") == "1"
NOW = 1_900_000_000.25  # a fixed clock: tokens' expt and references' timestamps
SECURITY_KEY = "golden-security-key"
SETTINGS = {
    "KOLLUS_SECURITY_KEY": SECURITY_KEY,
    "KOLLUS_CUSTOM_KEY": "golden-custom-key",
    "PLAYER_URL": "https://player.example/kollus",
    "PLAYER_TOKEN_LIFETIME": 300,
}
HOSTILE = '<script>alert("x")</script> & \'quoted\''


def video(**fields: Any) -> KollusVideo:
    media = fields.pop("media", None)
    defaults = {"pk": 3, "title": "Lesson 1: brushes", "media_content_key": "mck-3"}
    row = KollusVideo(**{**defaults, **fields})
    if media is not None:
        row.media = media
    return row


def ready_media(**fields: Any) -> KollusMedia:
    return KollusMedia(
        **{"pk": 7, "title": "m", "state": MediaState.READY, "poster_url": "https://p.example/7.jpg"}
        | fields
    )


def block_value(row: KollusVideo | None, **options: Any) -> Any:
    data = {"video": None, "autoplay": False, "mute": False, "start_time": 0}
    data.update({"allow_seek": True, "disable_playrate": False, "title_override": ""})
    data.update(options)
    value = KollusVideoBlock().to_python(data)
    value["video"] = row
    return value


BLOCK_CASES: dict[str, Any] = {
    "defaults": lambda: block_value(video()),
    "autoplay-muted-start": lambda: block_value(video(), autoplay=True, mute=True, start_time=90),
    "no-seek-no-playrate": lambda: block_value(video(), allow_seek=False, disable_playrate=True),
    "title-override": lambda: block_value(video(), title_override="  Chosen <title>  "),
    "script-title": lambda: block_value(video(title=HOSTILE)),
    "script-override": lambda: block_value(video(), title_override="강의 1 — «intro» </script>"),
    "blank-override": lambda: block_value(video(), title_override="   "),
    "untitled": lambda: block_value(video(title="")),
    "thumbnail": lambda: block_value(video(thumbnail_url="https://img.example/t.jpg?a=1&b=2")),
    # Rows as the package writes them: a video carries its media's poster (chooser copying)
    # and is withdrawn while its media is not ready (availability); pages read no media.
    "library-poster": lambda: block_value(
        video(media=ready_media(), thumbnail_url=ready_media().poster_url)
    ),
    "negative-start": lambda: block_value(video(), start_time=-5),
    "unavailable": lambda: block_value(video(is_available=False)),
    "transcoding": lambda: block_value(
        video(media=ready_media(state=MediaState.TRANSCODING), is_available=False)
    ),
    "no-video": lambda: block_value(None),
}

TAG_CASES: dict[str, tuple[str, Any]] = {
    "key": ("{% kollus_player 'mck-key' %}", None),
    "row-sized": (
        "{% kollus_player value width=640 height=360 css_class='lesson <x>' %}",
        lambda: video(title=HOSTILE),
    ),
    "row-width-only": ("{% kollus_player value width='800' %}", lambda: video()),
    "block-value": (
        "{% kollus_player value css_class='wide' %}",
        lambda: block_value(video(thumbnail_url="https://img.example/t.jpg"), autoplay=True),
    ),
    "forced-cache-safe": ("{% kollus_player value cache_safe=True %}", lambda: video()),
    "forced-render-time": ("{% kollus_player value cache_safe=False %}", lambda: video()),
    "placeholder-row": (
        "{% kollus_player value width=320 height=180 %}",
        lambda: video(title=HOSTILE, is_available=False, thumbnail_url="https://img.example/p.jpg"),
    ),
    "placeholder-untitled": ("{% kollus_player value %}", lambda: video(title="", is_available=False)),
    "placeholder-none": ("{% kollus_player value %}", lambda: None),
}

MODES = {"render-time": False, "cache-safe": True}
LANGUAGES = ("en", "ko")


def viewer_request() -> Any:
    request = RequestFactory().get("/lessons/")
    request.user = SimpleNamespace(is_authenticated=True, pk=42)  # cuid user_viewer_id(42)
    return request


@pytest.fixture
def fixed_world(settings, monkeypatch):
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, **SETTINGS}
    monkeypatch.setattr(time, "time", lambda: NOW)


def render_all(settings) -> dict[str, str]:
    rendered: dict[str, str] = {}
    for mode, cache_safe in MODES.items():
        settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "CACHE_SAFE_PLAYBACK": cache_safe}
        for language in LANGUAGES:
            with translation.override(language):
                for name, make in BLOCK_CASES.items():
                    html_ = KollusVideoBlock().render(make(), {"request": viewer_request()})
                    rendered[f"block/{name}/{mode}/{language}"] = str(html_)
                for name, (source, make) in TAG_CASES.items():
                    context = {"request": viewer_request(), "value": make() if make else None}
                    html_ = Template("{% load kollus %}" + source).render(Context(context))
                    rendered[f"tag/{name}/{mode}/{language}"] = html_
    return rendered


def test_default_markup_is_byte_identical_to_the_recorded_markup(settings, fixed_world):
    rendered = render_all(settings)
    if RECORD:
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(json.dumps(rendered, indent=1, ensure_ascii=False, sort_keys=True) + "\n")
    recorded = json.loads(GOLDEN.read_text())
    assert rendered.keys() == recorded.keys()
    for name, expected in recorded.items():
        assert rendered[name] == expected, name


def test_every_recorded_token_decodes_with_pyjwt_and_has_no_registered_claims():
    recorded = json.loads(GOLDEN.read_text())
    tokens = [
        token
        for markup in recorded.values()
        for token in re.findall(r"jwt=([\w.-]+)", html.unescape(markup))
    ]
    assert len(tokens) >= 20
    for token in tokens:
        assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT"}
        claims = jwt.decode(token, SECURITY_KEY, algorithms=["HS256"], options={"require": []})
        assert not {"exp", "iat", "nbf"} & claims.keys()
        assert claims["cuid"] == user_viewer_id(42)
        assert claims["expt"] == int(NOW) + 300
        assert claims["mc"][0]["mckey"].startswith("mck-")


def test_cache_safe_players_hold_references_not_tokens():
    recorded = json.loads(GOLDEN.read_text())
    cache_safe = [markup for name, markup in recorded.items() if "/cache-safe/" in name]
    with_reference = [markup for markup in cache_safe if "data-kollus-reference=" in markup]
    assert len(with_reference) >= 10
    for markup in with_reference:
        assert "jwt=" not in markup and SECURITY_KEY not in markup
