"""Playback signs with a :class:`KollusAccount`: the settings' one by default (built once per
process, rebuilt when the settings change), or the one a caller passes — the tag, the block,
the token endpoint and the play callback alike. And no module reads the account's keys from
the settings behind the account's back."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from django.template import Context, Template
from django.test import RequestFactory

import wagtail_kollus
from tests.factories import make_video, struct_value
from wagtail_kollus import playback
from wagtail_kollus.accounts import KollusAccount, default_account
from wagtail_kollus.blocks import KollusVideoBlock
from wagtail_kollus.conf import DEFAULTS
from wagtail_kollus.playback.callback import play_callback
from wagtail_kollus.playback.markup import render_player
from wagtail_kollus.playback.views import player_token

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.filterwarnings("ignore::jwt.InsecureKeyLengthWarning"),
]

OTHER_KEY = "the-other-accounts-security-key"
OTHER_TOKEN = "the-other-accounts-callback-token"


@pytest.fixture
def other_account():
    return KollusAccount.from_settings(
        kollus_security_key=OTHER_KEY,
        kollus_custom_key="other-custom-key",
        player_url="https://player.other.example",
        callback_token=OTHER_TOKEN,
    )


def player_src(markup: str) -> str:
    match = re.search(r'src="([^"]+)"', markup)
    assert match, markup
    return match.group(1).replace("&amp;", "&")


def assert_signed_by_other(url: str) -> None:
    assert url.startswith("https://player.other.example/s?jwt=")
    query = parse_qs(urlsplit(url).query)
    assert query["custom_key"] == ["other-custom-key"]
    claims = jwt.decode(query["jwt"][0], OTHER_KEY, algorithms=["HS256"])
    assert claims["mc"][0]["mckey"]
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(query["jwt"][0], "sandbox-security-key", algorithms=["HS256"])


def test_the_default_account_is_built_once_and_again_when_the_settings_change(settings):
    first = default_account()
    assert default_account() is first
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "PLAYER_URL": "https://changed.example"}
    changed = default_account()
    assert changed is not first
    assert changed.player_url == "https://changed.example"
    url = playback.build_player_url("mck-1", "user-1")
    assert url.startswith("https://changed.example/s?jwt=")


def test_render_player_and_the_tag_sign_with_the_account_given(other_account):
    request = RequestFactory().get("/")
    assert_signed_by_other(
        player_src(render_player("mck-1", request=request, account=other_account))
    )
    template = Template("{% load kollus %}{% kollus_player key account=account %}")
    markup = template.render(
        Context({"key": "mck-1", "request": request, "account": other_account})
    )
    assert_signed_by_other(player_src(markup))
    # Without one, the settings' account.
    default = player_src(render_player("mck-1", request=request))
    assert default.startswith(DEFAULTS["PLAYER_URL"]) or default.startswith("http://127.0.0.1:9/")


def test_a_block_can_name_its_account(other_account):
    class OtherAccountBlock(KollusVideoBlock):
        def get_account(self, value, context=None):
            return other_account

    value = struct_value(make_video())
    context = {"request": RequestFactory().get("/")}
    assert_signed_by_other(player_src(OtherAccountBlock().render(value, context)))
    default = player_src(KollusVideoBlock().render(value, context))
    assert not default.startswith("https://player.other.example")


def test_the_token_endpoint_signs_with_the_account_of_its_url_pattern(other_account):
    reference = playback.sign_reference(playback.Playable("mck-1"))
    request = RequestFactory().get("/", {"reference": reference}, REMOTE_ADDR="192.0.2.250")
    request.session = None
    response = player_token(request, account=other_account)
    assert response.status_code == 200, response.content
    assert_signed_by_other(json.loads(response.content)["url"])


def test_the_play_callback_answers_for_the_account_given(other_account):
    form = {"kind": "1", "client_user_id": "anon-1", "media_content_key": "mck-1"}
    factory = RequestFactory()
    # The settings' token is not the other account's.
    refused = play_callback(
        factory.post("/", form), "test-callback-token-0123456789", account=other_account
    )
    assert refused.status_code == 403
    answer = play_callback(factory.post("/", form), OTHER_TOKEN, account=other_account)
    assert answer.status_code == 200
    assert answer["X-KOLLUS-USERKEY"] == "other-custom-key"
    data = jwt.decode(answer.content, OTHER_KEY, algorithms=["HS256"])["data"]
    assert data["result"] == 0  # no play context: refused, but signed by the other account


# The settings that name the account: only conf.py (which reads them), accounts.py (which makes
# the account of them) and checks.py and checks_settings.py (the system checks, which report on
# the settings by name) may read them from the settings object.
_ACCOUNT_SETTINGS = "|".join(name.upper() for name in KollusAccount.__dataclass_fields__)
_READS = re.compile(
    rf"kollus_settings\s*\.\s*(?:get\(\s*[\"'])?(?:{_ACCOUNT_SETTINGS})\b"
    rf"|getattr\(\s*kollus_settings\s*,\s*[\"'](?:{_ACCOUNT_SETTINGS})\b"
)
_ALLOWED = {"conf.py", "accounts.py", "checks.py", "checks_settings.py"}


def test_no_module_reads_the_account_settings_around_the_account():
    package = Path(wagtail_kollus.__file__).parent
    offenders = [
        f"{path.relative_to(package)}:{number}: {line.strip()}"
        for path in sorted(package.rglob("*.py"))
        if str(path.relative_to(package)) not in _ALLOWED
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if _READS.search(line)
    ]
    assert offenders == []


def test_one_receiver_forgets_what_was_built_from_the_settings():
    package = Path(wagtail_kollus.__file__).parent
    receivers = sorted(
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if "@receiver(setting_changed)" in path.read_text()
    )
    # conf.py reloads the settings object itself; accounts.py forgets the default account.
    assert receivers == ["accounts.py", "conf.py"]
