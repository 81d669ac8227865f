"""``wagtail_kollus.tokens``: the small HS256 signer writes exactly what PyJWT writes."""

from __future__ import annotations

import jwt
import pytest

from wagtail_kollus import player
from wagtail_kollus.tokens import sign_hs256

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


@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS.keys())
@pytest.mark.parametrize("key", KEYS)
def test_tokens_are_byte_identical_to_pyjwt_and_verify_with_it(payload, key):
    token = sign_hs256(payload, key)
    assert token == jwt.encode(payload, key, algorithm="HS256")
    assert jwt.decode(token, key, algorithms=["HS256"], options={"require": []}) == payload
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT"}


def test_a_token_signed_with_another_key_is_rejected():
    token = sign_hs256(PAYLOADS["kollus"], "one-key")
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, "another-key", algorithms=["HS256"])
    # The keyed HMAC is cached per key: the first key's state must not leak into another's.
    assert sign_hs256(PAYLOADS["kollus"], "another-key") != token


@pytest.mark.parametrize("key", ["", None, b"bytes"])
def test_an_empty_or_non_text_key_is_refused(key):
    with pytest.raises(ValueError, match="key"):
        sign_hs256({"a": 1}, key)


def test_player_tokens_use_the_security_key_and_refuse_registered_claims():
    token = player.sign_token({"cuid": "user-1", "expt": 5, "mc": [{"mckey": "k"}]})
    claims = jwt.decode(token, "sandbox-security-key", algorithms=["HS256"], options={"require": []})
    assert claims == {"cuid": "user-1", "expt": 5, "mc": [{"mckey": "k"}]}
    with pytest.raises(ValueError, match=r"\['exp', 'iat'\]"):
        player.sign_token({"cuid": "u", "iat": 1, "exp": 2})
