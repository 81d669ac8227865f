"""The sandbox's player shows the options a token carries: the watermark it draws, the DRM and
subtitle policies, the seeking limit, N-screen and the intro; a malformed watermark is refused."""

from __future__ import annotations

import html
import re
import time
import warnings

import jwt
import pytest
import requests

WATERMARK = {
    "code_kind": "ann@example.com",
    "font_size": 9,
    "font_color": "FF0000",
    "alpha": 200,
    "show_time": 10,
    "hide_time": 5,
    "enable_html5_player": True,
}


@pytest.fixture
def keys(sandbox):
    with sandbox.state.lock:
        return [
            channel["media_content_key"]
            for media in sandbox.state.media.values()
            for channel in media["channels"]
        ][:2]


def play(sandbox, payload):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyJWT warns about the short demo key
        token = jwt.encode(payload, sandbox.keys.security_key, algorithm="HS256")
    return requests.get(
        sandbox.player_url + "/s",
        params={"jwt": token, "custom_key": sandbox.keys.custom_key},
        timeout=5,
    )


def attribute(text: str, name: str) -> str | None:
    found = re.search(rf" {name}='([^']*)'", text)
    return html.unescape(found.group(1)) if found else None


def test_the_player_draws_the_watermark_and_shows_every_option(sandbox, keys):
    main, intro = keys
    item = {
        "mckey": main,
        "seek": False,
        "seekable_end": 45,
        "disable_nscreen": True,
        "drm_policy": {"kind": "inka", "data": {"a": 1}},
        "subtitle_policy": {"filter_main": ["ko"]},
    }
    payload = {
        "cuid": "viewer-7",
        "expt": int(time.time()) + 120,
        "mc": [{"mckey": intro, "intr": True}, item],
        "video_watermarking_code_policy": WATERMARK,
    }
    answer = play(sandbox, payload)
    assert answer.status_code == 200, answer.text
    text = answer.text
    assert attribute(text, "data-watermark") == "ann@example.com"
    assert attribute(text, "data-font-color") == "FF0000" and "color:#FF0000" in text
    assert attribute(text, "data-seek") == "false"
    assert attribute(text, "data-seekable-end") == "45"
    assert attribute(text, "data-disable-nscreen") == "true"
    assert attribute(text, "data-drm-policy") == '{"data": {"a": 1}, "kind": "inka"}'
    assert attribute(text, "data-subtitle-policy") == '{"filter_main": ["ko"]}'
    assert attribute(text, "data-intro") == intro
    assert "DRM policy:" in text and "Seekable up to (s): 45" in text


def test_a_token_without_options_shows_none(sandbox, keys):
    payload = {"cuid": "viewer-7", "expt": int(time.time()) + 120, "mc": [{"mckey": keys[0]}]}
    text = play(sandbox, payload).text
    for name in ("data-watermark", "data-seekable-end", "data-drm-policy", "data-intro"):
        assert attribute(text, name) is None


@pytest.mark.parametrize(
    "change",
    [
        {"code_kind": ""},
        {"font_size": "9"},
        {"alpha": 0.5},
        {"font_color": "#FF0000"},
        {"show_time": True},
    ],
)
def test_a_watermark_kollus_would_not_draw_is_refused(sandbox, keys, change):
    payload = {
        "cuid": "viewer-7",
        "expt": int(time.time()) + 120,
        "mc": [{"mckey": keys[0]}],
        "video_watermarking_code_policy": {**WATERMARK, **change},
    }
    answer = play(sandbox, payload)
    assert answer.status_code == 403
    assert attribute(answer.text, "data-reason") == "bad-watermark"
