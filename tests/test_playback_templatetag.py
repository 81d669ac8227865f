"""``{% kollus_player %}``: what the HTML holds in each mode, and what it never holds."""

from __future__ import annotations

import html
import logging
import re
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.signed_cookies import SessionStore
from django.template import Context, Template
from django.test import RequestFactory

from wagtail_kollus import playback as player
from wagtail_kollus.models import KollusVideo
from wagtail_kollus.playback.viewer import user_viewer_id

pytestmark = pytest.mark.filterwarnings(
    # The sandbox's demo security key is shorter than PyJWT likes; Kollus chooses real keys.
    "ignore::jwt.InsecureKeyLengthWarning"
)

SECRETS = ("sandbox-security-key", "sandbox-access-token", "sandbox-server-key")


class BlockValue:
    """The ``KollusVideoValue`` contract (docs/dev/contracts.md), as the tag duck-types it."""

    def __init__(self, key="mck-1", title='Lesson <1> & "intro"', playable=True, **options):
        self.video = None
        self.media_content_key = key
        self.title = title
        self.poster_url = "https://img.example/poster.jpg"
        self.duration_seconds = 61
        self.is_playable = playable
        self._options = options

    def mc_options(self):
        return {"seek": self._options.get("allow_seek", True), "title": self.title}

    def url_params(self):
        return {"autoplay": self._options.get("autoplay", False), "t": self._options.get("t", 0)}


def render(source: str, **context) -> str:
    request = context.pop("request", None)
    if request is None:
        request = RequestFactory().get("/")
        request.user = AnonymousUser()
        request.session = SessionStore()
    return Template("{% load kollus %}" + source).render(Context({"request": request, **context}))


def iframe_src(output: str) -> str:
    match = re.search(r'<iframe[^>]*\ssrc="([^"]+)"', output)
    assert match, output
    return html.unescape(match.group(1))


def assert_no_secrets(output: str) -> None:
    for secret in SECRETS:
        assert secret not in output


# --- render-time signing (the default) -----------------------------------------------------


def test_block_value_renders_an_accessible_responsive_iframe_with_a_valid_token():
    output = render("{% kollus_player value %}", value=BlockValue(autoplay=True, t=30))
    assert "aspect-ratio:16 / 9" in output
    assert 'title="Lesson &lt;1&gt; &amp; &quot;intro&quot;"' in output  # escaped once
    assert 'allow="autoplay; fullscreen; encrypted-media"' in output
    assert "allowfullscreen" in output
    assert 'loading="lazy"' in output
    assert 'referrerpolicy="strict-origin-when-cross-origin"' in output
    src = iframe_src(output)
    query = parse_qs(urlsplit(src).query)
    assert query["autoplay"] == ["1"] and query["t"] == ["30"]
    claims = jwt.decode(query["jwt"][0], "sandbox-security-key", algorithms=["HS256"])
    assert claims["mc"] == [{"mckey": "mck-1", "seek": True, "title": 'Lesson <1> & "intro"'}]
    assert claims["cuid"].startswith("anon-")
    assert_no_secrets(output)


def test_the_token_is_for_the_viewer_of_the_request(django_user_model):
    request = RequestFactory().get("/")
    request.user = django_user_model(pk=5, username="viewer")
    output = render("{% kollus_player 'mck-9' %}", request=request)
    token = parse_qs(urlsplit(iframe_src(output)).query)["jwt"][0]
    claims = jwt.decode(token, "sandbox-security-key", algorithms=["HS256"])
    assert claims["cuid"] == user_viewer_id(5)
    assert claims["mc"] == [{"mckey": "mck-9"}]


def test_kollus_video_row_and_size_arguments():
    video = KollusVideo(title="Row video", media_content_key="mck-row")
    output = render("{% kollus_player video width=640 height=360 css_class='wide' %}", video=video)
    assert 'class="kollus-player wide"' in output
    assert "aspect-ratio:640 / 360;max-width:640px" in output
    assert 'width="640"' in output and 'height="360"' in output
    assert 'title="Row video"' in output
    assert (
        "mck-row"
        in jwt.decode(
            parse_qs(urlsplit(iframe_src(output)).query)["jwt"][0],
            "sandbox-security-key",
            algorithms=["HS256"],
        )["mc"][0]["mckey"]
    )


# --- cache-safe mode -----------------------------------------------------------------------


@pytest.mark.parametrize("how", ["argument", "setting"])
def test_cache_safe_html_holds_a_reference_and_no_token(settings, how):
    source = "{% kollus_player value cache_safe=True %}"
    if how == "setting":
        settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "CACHE_SAFE_PLAYBACK": True}
        source = "{% kollus_player value %}"
    output = render(source, value=BlockValue())
    # No token in any form: no jwt= parameter and nothing shaped like a JWT (every JWT starts
    # with base64url '{"'). A bare "jwt" substring is not the test: the signed reference is
    # base64 and spells it by chance at some timestamps.
    assert "jwt=" not in output.lower()
    assert not re.search(r"eyJ[\w-]*\.eyJ[\w-]*\.[\w-]*", output)
    assert "custom_key" not in output
    assert_no_secrets(output)
    assert "sandbox-custom-key" not in output
    assert 'data-kollus-token-url="/kollus/player/token/"' in output
    assert '/static/wagtail_kollus/js/player.js" defer' in output
    assert "<script>" not in output  # no inline script: CSP-friendly
    reference = html.unescape(re.search(r'data-kollus-reference="([^"]+)"', output).group(1))
    loaded = player.load_reference(reference)
    assert loaded.media_content_key == "mck-1"
    assert loaded.mc_options["title"] == 'Lesson <1> & "intro"'
    assert re.search(r"<iframe(?![^>]*\ssrc=)[^>]*>", output), "iframe must wait for the script"


def test_cache_safe_false_overrides_the_setting(settings):
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "CACHE_SAFE_PLAYBACK": True}
    output = render("{% kollus_player 'mck-1' cache_safe=False %}")
    assert "jwt=" in iframe_src(output)


def test_cache_safe_output_is_the_same_for_every_viewer(django_user_model):
    """What makes it cacheable: nothing in it depends on who asked."""
    user_request = RequestFactory().get("/")
    user_request.user = django_user_model(pk=8, username="u")
    a = render("{% kollus_player 'mck-1' cache_safe=True %}", request=user_request)
    b = render("{% kollus_player 'mck-1' cache_safe=True %}")
    strip = re.compile(r'data-kollus-reference="[^"]+"')  # signed per render (timestamp)
    assert strip.sub("", a) == strip.sub("", b)


# --- placeholders --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        BlockValue(playable=False),
        BlockValue(key=""),
        KollusVideo(title="Gone", media_content_key="mck-1", is_available=False),
        KollusVideo(title="No key", media_content_key=""),
    ],
    ids=[
        "none",
        "empty",
        "value-not-playable",
        "value-no-key",
        "unavailable",
        "no-key",
    ],
)
def test_unplayable_values_render_the_placeholder(value):
    output = render("{% kollus_player value %}", value=value)
    assert "<iframe" not in output
    assert "kollus-player--unavailable" in output
    assert "This video is not available right now." in output


def test_placeholder_shows_the_escaped_title_and_poster():
    output = render("{% kollus_player value %}", value=BlockValue(playable=False))
    assert "<strong>Lesson &lt;1&gt; &amp; &quot;intro&quot;</strong>" in output
    assert 'src="https://img.example/poster.jpg"' in output


@pytest.mark.parametrize("cache_safe", [False, True])
@pytest.mark.parametrize("missing", ["KOLLUS_SECURITY_KEY", "KOLLUS_CUSTOM_KEY"])
def test_missing_configuration_renders_a_placeholder_and_logs(
    settings, caplog, missing, cache_safe
):
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, missing: ""}
    with caplog.at_level(logging.WARNING, logger="wagtail_kollus.player"):
        output = render("{% kollus_player 'mck-1' cache_safe=cs %}", cs=cache_safe)
    assert "<iframe" not in output and "kollus-player--unavailable" in output
    assert missing in caplog.text
    for record in caplog.records:
        assert_no_secrets(record.getMessage())


def test_a_malformed_key_renders_a_placeholder_not_an_error(caplog):
    with caplog.at_level(logging.WARNING, logger="wagtail_kollus.player"):
        output = render("{% kollus_player key %}", key="k" * 200)
    assert "kollus-player--unavailable" in output
    assert "placeholder" in caplog.text


def test_templates_can_be_overridden(settings, tmp_path):
    override = tmp_path / "wagtail_kollus" / "player"
    override.mkdir(parents=True)
    (override / "placeholder.html").write_text("<p class='site-own'>{{ title }}</p>")
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}
    ]
    output = render("{% kollus_player value %}", value=BlockValue(playable=False))
    assert output.startswith("<p class='site-own'>Lesson &lt;1&gt;")


def test_cache_safe_player_shows_the_poster_until_the_player_loads():
    output = render("{% kollus_player value cache_safe=True %}", value=BlockValue())
    assert (
        '<img class="kollus-player__poster" src="https://img.example/poster.jpg" alt=""' in output
    )
    assert output.index("kollus-player__poster") < output.index("<iframe")
