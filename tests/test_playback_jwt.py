"""``wagtail_kollus.playback.jwt``: PyJWT writes exactly the token Kollus verifies.

The expected bytes are built here from the JWS specification with the standard library alone
(base64url of the fixed header, of the compact JSON claims, of their HMAC-SHA256), so a PyJWT
upgrade that changed the header, the separators or the claims would fail this test.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import jwt
import pytest

from wagtail_kollus.playback import build_payload, sign_token

pytestmark = pytest.mark.filterwarnings("ignore::jwt.InsecureKeyLengthWarning")

PAYLOADS = {
    "kollus": {
        "cuid": "user-7",
        "expt": 1_900_000_000,
        "mc": [{"mckey": "mck-1", "seek": False, "disable_playrate": True, "title": "Lesson 1"}],
    },
    "unicode-and-markup": {"cuid": "anon-1", "expt": 1, "mc": [{"title": '강의 <1> & "入門" é'}]},
    "nested-and-null": {"a": None, "b": [1, 2.5, {"c": True}], "d": ""},
    "empty": {},
}
KEYS = ["sandbox-security-key", "a-much-longer-security-key-of-forty-two-chars", "키-key"]


def b64url(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def by_the_specification(payload: dict, key: str) -> str:
    signing_input = (
        b64url(b'{"alg":"HS256","typ":"JWT"}')
        + b"."
        + b64url(json.dumps(payload, separators=(",", ":")).encode("ascii"))
    )
    mac = hmac.new(key.encode("utf-8"), signing_input, hashlib.sha256).digest()
    return (signing_input + b"." + b64url(mac)).decode("ascii")


@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS.keys())
@pytest.mark.parametrize("key", KEYS)
def test_tokens_are_exactly_the_specified_bytes_and_verify_with_pyjwt(payload, key):
    token = sign_token(payload, key=key)
    assert token == by_the_specification(payload, key)
    assert jwt.decode(token, key, algorithms=["HS256"], options={"require": []}) == payload
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT"}


def test_a_token_signed_with_another_key_is_rejected():
    token = sign_token(PAYLOADS["kollus"], key="one-key")
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, "another-key", algorithms=["HS256"])


def test_player_tokens_use_the_security_key_and_refuse_registered_claims():
    token = sign_token({"cuid": "user-1", "expt": 5, "mc": [{"mckey": "k"}]})
    claims = jwt.decode(token, "sandbox-security-key", algorithms=["HS256"], options={"require": []})
    assert claims == {"cuid": "user-1", "expt": 5, "mc": [{"mckey": "k"}]}
    with pytest.raises(ValueError, match=r"\['exp', 'iat'\]"):
        sign_token({"cuid": "u", "iat": 1, "exp": 2})
    with pytest.raises(ValueError, match=r"\['nbf'\]"):
        sign_token({"cuid": "u", "nbf": 1})


def test_a_built_payload_signs_without_registered_claims():
    payload = build_payload("mck-1", "user-1", mc_options={"seek": 0}, lifetime=60, now=100.9)
    claims = jwt.decode(
        sign_token(payload), "sandbox-security-key", algorithms=["HS256"], options={"require": []}
    )
    assert claims == {"cuid": "user-1", "expt": 160, "mc": [{"mckey": "mck-1", "seek": False}]}


@pytest.mark.parametrize(
    "key",
    ['{"kty": "oct", "k": "c2VjcmV0"}', "-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----"],
    ids=["jwk", "pem"],
)
def test_pyjwt_still_refuses_a_key_that_is_not_an_hmac_secret(key):
    """The key is prepared once, but by PyJWT, with all its checks."""
    with pytest.raises(jwt.InvalidKeyError):
        sign_token(PAYLOADS["kollus"], key=key)
