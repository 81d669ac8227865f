"""The sandbox's JWT player: accepts exactly what Kollus accepts, names what it refuses."""

from __future__ import annotations

import re
import time
import warnings

import jwt
import pytest
import requests


def _sign(payload, key, algorithm="HS256"):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyJWT warns about the short demo key
        return jwt.encode(payload, key, algorithm=algorithm)


@pytest.fixture
def mckey(sandbox):
    with sandbox.state.lock:
        row = next(m for m in sandbox.state.media.values() if m["channels"] and "<" not in m["title"])
        return row["channels"][0]["media_content_key"], row["title"]


def _payload(mckey, **changes):
    payload = {"cuid": "viewer-7", "expt": int(time.time()) + 120, "mc": [{"mckey": mckey}]}
    payload.update(changes)
    return {k: v for k, v in payload.items() if v is not None}


def _play(sandbox, token, custom_key=None, **params):
    return requests.get(
        sandbox.player_url + "/s",
        params={"jwt": token, "custom_key": custom_key or sandbox.keys.custom_key, **params},
        timeout=5,
    )


def _reason(answer):
    return re.search(r"data-reason='([^']+)'", answer.text).group(1)


def test_valid_token_plays(sandbox, mckey):
    key, title = mckey
    answer = _play(sandbox, _sign(_payload(key), sandbox.keys.security_key), autoplay="1")
    assert answer.status_code == 200
    assert "data-sandbox-player='ok'" in answer.text
    assert f"data-mckey='{key}'" in answer.text and "data-cuid='viewer-7'" in answer.text
    assert title in answer.text and f"/player/poster/{key}.jpg" in answer.text
    assert "data-option-autoplay='1'" in answer.text
    assert sandbox.keys.security_key not in answer.text


def test_title_override_is_escaped_and_intro_is_allowed(sandbox, mckey):
    key, _ = mckey
    other = next(iter(sandbox.state.mckey_index))
    payload = _payload(key, mc=[{"mckey": other, "intr": True}, {"mckey": key, "title": "<script>alert(1)</script>"}])
    answer = _play(sandbox, _sign(payload, sandbox.keys.security_key))
    assert answer.status_code == 200 and f"data-mckey='{key}'" in answer.text
    assert "<script>alert(1)" not in answer.text and "&lt;script&gt;" in answer.text


@pytest.mark.parametrize(
    "case,reason",
    [
        ("wrong_key", "bad-signature"),
        ("hs512", "bad-algorithm"),
        ("none", "bad-algorithm"),
        ("exp", "registered-claim"),
        ("iat", "registered-claim"),
        ("nbf", "registered-claim"),
        ("expired", "expired"),
        ("expt_string", "bad-expt"),
        ("expt_float", "bad-expt"),
        ("no_cuid", "missing-cuid"),
        ("empty_mc", "bad-mc"),
        ("only_intro", "bad-mc"),
        ("unknown_mckey", "unknown-mckey"),
        ("custom_key", "custom-key"),
        ("garbage", "malformed"),
    ],
)
def test_rejections_name_the_reason(sandbox, mckey, case, reason):
    key, _ = mckey
    secret = sandbox.keys.security_key
    now = int(time.time())
    custom_key = None
    tokens = {
        "wrong_key": lambda: _sign(_payload(key), "another-security-key"),
        "hs512": lambda: _sign(_payload(key), secret, "HS512"),
        "none": lambda: _sign(_payload(key), None, "none"),
        "exp": lambda: _sign(_payload(key, exp=now + 60), secret),
        "iat": lambda: _sign(_payload(key, iat=now), secret),
        "nbf": lambda: _sign(_payload(key, nbf=now), secret),
        "expired": lambda: _sign(_payload(key, expt=now - 1), secret),
        "expt_string": lambda: _sign(_payload(key, expt=str(now + 60)), secret),
        "expt_float": lambda: _sign(_payload(key, expt=now + 60.5), secret),
        "no_cuid": lambda: _sign(_payload(key, cuid=None), secret),
        "empty_mc": lambda: _sign(_payload(key, mc=[]), secret),
        "only_intro": lambda: _sign(_payload(key, mc=[{"mckey": key, "intr": True}]), secret),
        "unknown_mckey": lambda: _sign(_payload("no-such-key"), secret),
        "custom_key": lambda: _sign(_payload(key), secret),
        "garbage": lambda: "not.a.jwt",
    }
    if case == "custom_key":
        custom_key = "wrong-custom-key"
    answer = _play(sandbox, tokens[case](), custom_key)
    assert answer.status_code == 403
    assert "data-sandbox-player='error'" in answer.text
    assert _reason(answer) == reason


def test_missing_jwt(sandbox):
    answer = requests.get(sandbox.player_url + "/s", params={"custom_key": sandbox.keys.custom_key}, timeout=5)
    assert answer.status_code == 403 and _reason(answer) == "missing-jwt"


def test_share_page_and_secured_channel(sandbox):
    with sandbox.state.lock:
        rows = [m for m in sandbox.state.media.values() if len(m["channels"]) == 2]
    public_key = rows[0]["channels"][0]["media_content_key"]
    secure_key = rows[0]["channels"][1]["media_content_key"]
    shared = requests.get(f"{sandbox.player_url}/{public_key}", timeout=5)
    assert shared.status_code == 200 and "data-signed='false'" in shared.text
    secured = requests.get(f"{sandbox.player_url}/{secure_key}", timeout=5)
    assert secured.status_code == 403 and _reason(secured) == "signature-required"
    assert requests.get(f"{sandbox.player_url}/nope", timeout=5).status_code == 404


def test_poster_is_a_cached_jpeg(sandbox, mckey):
    key, _ = mckey
    first = requests.get(f"{sandbox.player_url}/poster/{key}.jpg", timeout=5)
    second = requests.get(f"{sandbox.player_url}/poster/{key}.jpg", timeout=5)
    assert first.status_code == 200 and first.content[:2] == b"\xff\xd8"
    assert first.content == second.content
    assert requests.get(f"{sandbox.player_url}/poster/nope.jpg", timeout=5).status_code == 404
