"""The player markup written in Python must be exactly what the package's templates render.

The fast path (``wagtail_kollus.player_markup``) stands in for ``player/render_time.html``,
``player/cache_safe.html`` and ``player/iframe.html``, and ``KollusVideoBlock.render`` for
``blocks/kollus_video.html``, only while those templates are the package's own files. These
tests compare both paths character for character, and prove that an override (a project
template of the same name, a subclass's ``Meta.template``) is what renders.
"""

from __future__ import annotations

import re
import shutil
import time
from html import unescape
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.signed_cookies import SessionStore
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import include, path, set_script_prefix, set_urlconf
from django.utils import translation
from django.utils.safestring import mark_safe

from wagtail_kollus import block_player, player, player_markup
from wagtail_kollus.blocks import KollusVideoBlock
from wagtail_kollus.models import KollusMedia, KollusVideo, MediaState
from wagtail_kollus.templatetags.kollus import _frame_context, render_player

pytestmark = pytest.mark.filterwarnings("ignore::jwt.InsecureKeyLengthWarning")

PACKAGE_TEMPLATES = Path(player_markup.__file__).resolve().parent / "templates"
SECURITY_KEY = "sandbox-security-key"


def frame_context(title="Lesson 1", poster="", width=None, height=None, css_class=""):
    playable = player.Playable(media_content_key="mck-1", title=title, poster_url=poster)
    return _frame_context(playable, width, height, css_class)


FRAME_CASES = {
    "plain": {},
    "no-title": {"title": ""},
    "hostile-title": {"title": "Lesson <1> & \"intro\" 'quoted'"},
    "unicode-title": {"title": "강의 1 — 入門"},
    "width-only": {"width": 640},
    "both-sides": {"width": "1280", "height": 720},
    "css-class": {"css_class": 'wide "x" <y>'},
    "safe-css-class": {"css_class": mark_safe("a&b")},  # a template literal is already safe
    "poster": {"poster": "https://img.example/p.jpg?a=1&b=<2>"},
}


@pytest.mark.parametrize("case", FRAME_CASES.values(), ids=FRAME_CASES.keys())
@pytest.mark.parametrize("src", ["https://v.example/s?jwt=a.b.c&custom_key=k&t=30", ""])
def test_render_time_markup_is_the_template_output(case, src):
    context = {**frame_context(**case), "src": src}
    expected = render_to_string(player_markup.RENDER_TIME_TEMPLATE, context)
    assert player_markup.render_time_html(context) == expected


@pytest.mark.parametrize("case", FRAME_CASES.values(), ids=FRAME_CASES.keys())
@pytest.mark.parametrize("autoplay", [False, True])
@pytest.mark.parametrize("language", ["en", "ko", "ja"])
def test_cache_safe_markup_is_the_template_output(case, autoplay, language):
    context = {
        **frame_context(**case),
        "reference": "eyJrIjoibWNrLTEifQ:1tXyZ:sig-_&<",
        "token_url": "/kollus/player/token/?a=1&b=2",
        "autoplay": autoplay,
    }
    with translation.override(language):
        expected = render_to_string(player_markup.CACHE_SAFE_TEMPLATE, context)
        assert player_markup.cache_safe_html(context) == expected


# --- the whole block: fast path against the templates ---------------------------------------


def override_templates(settings, tmp_path: Path, files: dict[str, str | None]) -> None:
    """Put project templates first in DIRS; ``None`` copies the package's file unchanged."""
    for name, text in files.items():
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if text is None:
            shutil.copyfile(PACKAGE_TEMPLATES / name, target)
        else:
            target.write_text(text)
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}
    ]


def block_value(**options):
    media = KollusMedia(pk=7, title="m", state=MediaState.READY, poster_url="https://p/x.jpg")
    video = KollusVideo(
        pk=3,
        title=options.pop("video_title", 'Row <video> & "more"'),
        media_content_key="mck-3",
        thumbnail_url=options.pop("thumbnail_url", ""),
        media=media,
        duration_seconds=61,
    )
    data = {"video": None, "autoplay": False, "mute": False, "start_time": 0}
    data.update({"allow_seek": True, "disable_playrate": False, "title_override": ""})
    data.update(options)
    value = KollusVideoBlock().to_python(data)
    value["video"] = video
    return value


def viewer_request():
    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    request.session = SessionStore()
    return request


JWT_PARAM = re.compile(r"jwt=([\w.-]+)")


def split_token(html: str) -> tuple[str, dict]:
    """The HTML with its token taken out, and the token's claims (checked with PyJWT)."""
    match = JWT_PARAM.search(html)
    assert match, html
    claims = jwt.decode(match.group(1), SECURITY_KEY, algorithms=["HS256"])
    return JWT_PARAM.sub("jwt=TOKEN", html), claims


BLOCK_OPTIONS = {
    "defaults": {},
    "autoplay-muted-start": {"autoplay": True, "mute": True, "start_time": 90},
    "no-seek-no-playrate": {"allow_seek": False, "disable_playrate": True},
    "title-override": {"title_override": "  Chosen <title>  "},
    "thumbnail": {"thumbnail_url": "https://img.example/t.jpg"},
    "unicode-override": {"title_override": "강의 1 — «intro» ☃ </script>"},
    "blank-override": {"title_override": "   "},
    "spaced-video-title": {"video_title": "  Spaced  "},
    "blank-video-title": {"video_title": "   "},
    "start-only": {"start_time": 1},
    "negative-start": {"start_time": -5},
    "autoplay-only": {"autoplay": True},
}


@pytest.mark.django_db
@pytest.mark.parametrize("options", BLOCK_OPTIONS.values(), ids=BLOCK_OPTIONS.keys())
@pytest.mark.parametrize("cache_safe", [False, True])
def test_block_fast_path_renders_what_the_templates_render(settings, tmp_path, options, cache_safe):
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "CACHE_SAFE_PLAYBACK": cache_safe}
    request = viewer_request()
    block = KollusVideoBlock()
    value = block_value(**options)
    assert player_markup.is_package_template(player_markup.BLOCK_TEMPLATE)
    fast = block.render(value, {"request": request})
    if not cache_safe:
        # The block's one-pass writer handles every one of these cases itself.
        one_pass = block_player.render_time_block_html(value, request)
        assert one_pass is not None
        assert split_token(one_pass)[0] == split_token(fast)[0]

    # Identical copies of every template, found first: same text, but no longer "ours".
    names = [
        player_markup.BLOCK_TEMPLATE,
        player_markup.RENDER_TIME_TEMPLATE,
        player_markup.CACHE_SAFE_TEMPLATE,
        player_markup.IFRAME_TEMPLATE,
    ]
    override_templates(settings, tmp_path, dict.fromkeys(names))
    assert not player_markup.is_package_template(player_markup.BLOCK_TEMPLATE)
    slow = block.render(value, {"request": request})

    if cache_safe:
        reference = re.compile(r'data-kollus-reference="[^"]+"')  # timestamped per render
        loaded = [
            player.load_reference(unescape(m.group(0).split('"')[1]))
            for m in (reference.search(fast), reference.search(slow))
        ]
        assert loaded[0] == loaded[1]
        assert reference.sub("", fast) == reference.sub("", slow)
    else:
        fast_html, fast_claims = split_token(fast)
        slow_html, slow_claims = split_token(slow)
        assert fast_html == slow_html
        assert abs(fast_claims.pop("expt") - slow_claims.pop("expt")) <= 1
        assert fast_claims == slow_claims
        assert fast_claims["mc"][0]["mckey"] == "mck-3"


# --- overrides are honoured ----------------------------------------------------------------


@pytest.mark.django_db
def test_a_project_iframe_template_is_rendered_not_the_fast_path(settings, tmp_path):
    value = block_value()
    assert "site-frame" not in KollusVideoBlock().render(value, {"request": viewer_request()})
    override_templates(
        settings,
        tmp_path,
        {player_markup.IFRAME_TEMPLATE: '<iframe class="site-frame" src="{{ src }}"></iframe>'},
    )
    html = KollusVideoBlock().render(value, {"request": viewer_request()})
    assert '<iframe class="site-frame" src="http' in html
    assert html.startswith('<div class="kollus-video"><div class="kollus-player"')


@pytest.mark.django_db
def test_a_project_block_template_is_rendered(settings, tmp_path):
    override_templates(
        settings,
        tmp_path,
        {player_markup.BLOCK_TEMPLATE: "<figure class='site'>{{ value.title }}</figure>"},
    )
    html = KollusVideoBlock().render(block_value(), {"request": viewer_request()})
    assert html == "<figure class='site'>Row &lt;video&gt; &amp; &quot;more&quot;</figure>"


@pytest.mark.django_db
def test_a_subclass_template_is_rendered(settings, tmp_path):
    override_templates(
        settings, tmp_path, {"site/video.html": "<p>{{ value.media_content_key }}</p>"}
    )

    class SiteVideoBlock(KollusVideoBlock):
        class Meta:
            template = "site/video.html"

    assert SiteVideoBlock().render(block_value(), {"request": viewer_request()}) == "<p>mck-3</p>"


@pytest.mark.django_db
def test_the_override_check_is_redone_when_templates_change(settings, tmp_path):
    name = player_markup.RENDER_TIME_TEMPLATE
    assert player_markup.is_package_template(name)
    original = settings.TEMPLATES
    override_templates(settings, tmp_path, {name: "<p>site</p>"})
    assert not player_markup.is_package_template(name)
    assert render_player("mck-1", request=viewer_request()) == "<p>site</p>"
    settings.TEMPLATES = original
    assert player_markup.is_package_template(name)


@pytest.mark.django_db
def test_debug_mode_looks_the_template_up_every_time(settings, tmp_path):
    settings.DEBUG = True
    name = player_markup.RENDER_TIME_TEMPLATE
    assert player_markup.is_package_template(name)
    override_templates(settings, tmp_path, {name: "<p>site</p>"})
    assert not player_markup.is_package_template(name)


@pytest.mark.django_db
def test_an_unplayable_video_still_renders_the_unavailable_template():
    value = block_value()
    value["video"].is_available = False
    html = KollusVideoBlock().render(value, {"request": viewer_request()})
    assert "data-kollus-unavailable" in html and "<iframe" not in html


def test_fast_player_url_is_a_valid_signed_url_for_the_viewer():
    request = viewer_request()
    html = render_player("mck-1", request=request)
    src = unescape(re.search(r' src="([^"]+)"', html).group(1))
    query = parse_qs(urlsplit(src).query)
    claims = jwt.decode(query["jwt"][0], SECURITY_KEY, algorithms=["HS256"])
    assert claims["cuid"] == request.session[player.ANONYMOUS_CUID_SESSION_KEY]
    assert query["custom_key"] == ["sandbox-custom-key"]


# --- what the fast path remembers follows the settings and the request --------------------

urlpatterns = [path("video-api/", include("wagtail_kollus.urls"))]  # ROOT_URLCONF in a test


def cache_safe_player() -> str:
    return render_player("mck-1", request=viewer_request(), cache_safe=True)


def test_the_token_url_follows_the_urlconf_and_the_script_prefix(settings):
    assert 'data-kollus-token-url="/kollus/player/token/"' in cache_safe_player()
    settings.ROOT_URLCONF = __name__
    assert 'data-kollus-token-url="/video-api/player/token/"' in cache_safe_player()
    set_script_prefix("/site/")
    try:
        assert 'data-kollus-token-url="/site/video-api/player/token/"' in cache_safe_player()
    finally:
        set_script_prefix("/")


class UrlsWithoutThePlugin:
    urlpatterns: list = []


def test_without_the_plugin_urls_cache_safe_players_are_placeholders(caplog):
    assert "<iframe" in cache_safe_player()
    set_urlconf(UrlsWithoutThePlugin)  # what a request.urlconf does, set by a middleware
    try:
        html = cache_safe_player()
    finally:
        set_urlconf(None)
    assert "kollus-player--unavailable" in html and "<iframe" not in html
    assert 'include("wagtail_kollus.urls")' in caplog.text


def test_the_player_script_url_follows_static_url(settings):
    assert '<script src="/static/wagtail_kollus/js/player.js" defer>' in cache_safe_player()
    settings.STATIC_URL = "https://cdn.example/assets/"
    assert (
        '<script src="https://cdn.example/assets/wagtail_kollus/js/player.js" defer>'
        in cache_safe_player()
    )


# --- the block's one-pass writer (block_player) hands anything unusual to the general path --


def block_src(html: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(unescape(re.search(r' src="([^"]+)"', html).group(1))).query)


def test_a_value_subclass_renders_through_its_own_methods():
    from wagtail_kollus.blocks import KollusVideoValue

    class ThumbnailValue(KollusVideoValue):
        def mc_options(self):
            return {**super().mc_options(), "thumbnail": "https://img.example/t.jpg"}

    class ThumbnailBlock(KollusVideoBlock):
        class Meta:
            value_class = ThumbnailValue

    value = block_value()
    subclass_value = ThumbnailBlock().to_python({**value, "video": None})
    subclass_value["video"] = value["video"]
    html = ThumbnailBlock().render(subclass_value, {"request": viewer_request()})
    claims = jwt.decode(block_src(html)["jwt"][0], SECURITY_KEY, algorithms=["HS256"])
    assert claims["mc"][0]["thumbnail"] == "https://img.example/t.jpg"


def test_an_over_long_key_is_the_placeholder_not_a_broken_player(caplog):
    value = block_value()
    value["video"].media_content_key = "k" * 101
    assert block_player.render_time_block_html(value, viewer_request()) is None
    html = KollusVideoBlock().render(value, {"request": viewer_request()})
    assert "<iframe" not in html
    assert "at most 100 characters" in caplog.text


def test_a_missing_security_key_is_the_placeholder(settings, caplog):
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "KOLLUS_SECURITY_KEY": ""}
    value = block_value()
    assert block_player.render_time_block_html(value, viewer_request()) is None
    html = KollusVideoBlock().render(value, {"request": viewer_request()})
    assert "<iframe" not in html
    assert "KOLLUS_SECURITY_KEY" in caplog.text


def test_what_the_one_pass_writer_remembers_follows_the_settings(settings):
    request = viewer_request()
    first = block_src(KollusVideoBlock().render(block_value(), {"request": request}))
    assert first["custom_key"] == ["sandbox-custom-key"]
    settings.WAGTAIL_KOLLUS = {
        **settings.WAGTAIL_KOLLUS,
        "KOLLUS_CUSTOM_KEY": "another-custom-key",
        "KOLLUS_SECURITY_KEY": "another-security-key",
        "PLAYER_TOKEN_LIFETIME": 60,
    }
    html = KollusVideoBlock().render(block_value(), {"request": request})
    assert unescape(re.search(r' src="([^"]+)"', html).group(1)).startswith(
        settings.WAGTAIL_KOLLUS["PLAYER_URL"].rstrip("/") + "/s?jwt="
    )
    second = block_src(html)
    assert second["custom_key"] == ["another-custom-key"]
    claims = jwt.decode(second["jwt"][0], "another-security-key", algorithms=["HS256"])
    assert 0 < claims["expt"] - time.time() <= 61


def test_each_viewer_gets_their_own_token():
    value = block_value()
    first, second = viewer_request(), viewer_request()
    tokens = [
        block_src(KollusVideoBlock().render(value, {"request": request}))["jwt"][0]
        for request in (first, second, first)
    ]
    cuids = [jwt.decode(t, SECURITY_KEY, algorithms=["HS256"])["cuid"] for t in tokens]
    assert cuids[0] == cuids[2] != cuids[1]


def test_values_that_are_not_plain_text_take_the_general_path():
    request = viewer_request()
    plain = block_value(title_override="<b>x</b>")
    assert block_player.render_time_block_html(plain, request) is not None
    safe = block_value(title_override=mark_safe("<b>x</b>"))  # equal to the memoised str
    assert block_player.render_time_block_html(safe, request) is None
    text_start = block_value(start_time="30")
    assert block_player.render_time_block_html(text_start, request) is None
