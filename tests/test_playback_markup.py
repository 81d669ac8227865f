"""The player's HTML: one default markup in Python, a site's own template when it names one.

``tests/test_playback_golden.py`` pins the default markup byte for byte; here: which markup is
used when, what follows the settings and the request, and what a site can change.
"""

from __future__ import annotations

import logging
import re
import time
from html import unescape
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.signed_cookies import SessionStore
from django.core.checks import run_checks
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import include, path, set_script_prefix, set_urlconf

from wagtail_kollus.blocks import KollusVideoBlock, KollusVideoValue
from wagtail_kollus.checks import REMOVED_PLAYER_TEMPLATES
from wagtail_kollus.models import KollusMedia, KollusVideo, MediaState
from wagtail_kollus.playback.claims import ANONYMOUS_CUID_SESSION_KEY
from wagtail_kollus.playback.markup import render_player

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.filterwarnings("ignore::jwt.InsecureKeyLengthWarning"),
]

SECURITY_KEY = "sandbox-security-key"


def project_templates(settings, tmp_path: Path, files: dict[str, str]) -> None:
    """Put project templates first in the template search path."""
    for name, text in files.items():
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}
    ]


def block_value(block: KollusVideoBlock | None = None, **options) -> KollusVideoValue:
    media = KollusMedia(pk=7, title="m", state=MediaState.READY, poster_url="https://p/x.jpg")
    video = KollusVideo(
        pk=3, title='Row <video> & "more"', media_content_key="mck-3", media=media
    )
    data = {"video": None, "autoplay": False, "mute": False, "start_time": 0}
    data.update({"allow_seek": True, "disable_playrate": False, "title_override": ""})
    data.update(options)
    value = (block or KollusVideoBlock()).to_python(data)
    value["video"] = video
    return value


def viewer_request():
    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    request.session = SessionStore()
    return request


def src_query(html: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(unescape(re.search(r' src="([^"]+)"', html).group(1))).query)


def claims_in(html: str, key: str = SECURITY_KEY) -> dict:
    return jwt.decode(src_query(html)["jwt"][0], key, algorithms=["HS256"])


# --- which markup: the default, or a template the site names -----------------------------------


def test_the_default_block_has_no_template_and_renders_its_basic_markup():
    block = KollusVideoBlock()
    assert block.get_template(block_value()) is None  # Wagtail's render_basic convention
    html = block.render(block_value(), {"request": viewer_request()})
    assert html.startswith('<div class="kollus-video"><div class="kollus-player"')
    assert claims_in(html)["mc"][0]["mckey"] == "mck-3"


def test_a_block_template_given_per_use_or_in_meta_is_rendered(settings, tmp_path):
    project_templates(
        settings,
        tmp_path,
        {
            "site/video.html": "{% load kollus %}<figure>{% kollus_player value %}"
            "<figcaption>{{ value.title }}</figcaption></figure>",
            "site/key.html": "<p>{{ value.media_content_key }}</p>",
        },
    )
    per_use = KollusVideoBlock(template="site/video.html")
    html = per_use.render(block_value(per_use), {"request": viewer_request()})
    assert html.startswith('<figure><div class="kollus-player"')
    assert "<figcaption>Row &lt;video&gt; &amp; &quot;more&quot;</figcaption>" in html

    class SiteVideoBlock(KollusVideoBlock):
        class Meta:
            template = "site/key.html"

    block = SiteVideoBlock()
    assert block.render(block_value(block), {"request": viewer_request()}) == "<p>mck-3</p>"


def test_the_tag_renders_a_template_the_site_names_with_the_player_context(settings, tmp_path):
    project_templates(
        settings,
        tmp_path,
        {
            "site/player.html": '<video-frame title="{{ title }}" src="{{ src }}"'
            ' data-ratio="{{ aspect_ratio }}" data-safe="{{ cache_safe }}"></video-frame>',
            "site/cached.html": '<x-player data-ref="{{ reference }}" data-url="{{ token_url }}"'
            ' data-autoplay="{{ autoplay }}" data-script="{{ player_script_url }}"></x-player>',
        },
    )
    context = Context({"request": viewer_request(), "value": block_value(autoplay=True)})
    html = Template(
        "{% load kollus %}{% kollus_player value width=640 height=360 template='site/player.html' %}"
    ).render(context)
    assert html.startswith('<video-frame title="Row &lt;video&gt; &amp; &quot;more&quot;" src="')
    assert 'data-ratio="640 / 360" data-safe="False"' in html
    assert claims_in(html)["mc"][0]["mckey"] == "mck-3"
    cached = Template(
        "{% load kollus %}{% kollus_player value cache_safe=True template='site/cached.html' %}"
    ).render(context)
    assert 'data-url="/kollus/player/token/" data-autoplay="True"' in cached
    assert 'data-script="/static/wagtail_kollus/js/player.js"' in cached
    assert "jwt=" not in cached


def test_a_site_template_is_not_used_for_a_video_that_cannot_play(settings, tmp_path):
    project_templates(settings, tmp_path, {"site/player.html": "<p>site player</p>"})
    row = KollusVideo(pk=4, title="Gone", media_content_key="mck-4", is_available=False)
    html = render_player(row, request=viewer_request(), template="site/player.html")
    assert "kollus-player--unavailable" in html and "site player" not in html


def test_the_two_placeholder_templates_are_still_overridable(settings, tmp_path):
    project_templates(
        settings,
        tmp_path,
        {
            "wagtail_kollus/player/placeholder.html": "<p class='tag-gone'>{{ title }}</p>",
            "wagtail_kollus/blocks/kollus_video_unavailable.html": "<p class='block-gone'>"
            "{{ value.title }} on {{ page_title }}</p>",
        },
    )
    row = KollusVideo(pk=4, title="Gone", media_content_key="mck-4", is_available=False)
    assert render_player(row) == "<p class='tag-gone'>Gone</p>"
    value = block_value()
    value["video"].is_available = False
    html = KollusVideoBlock().render(value, {"request": viewer_request(), "page_title": "Home"})
    assert html == (
        "<p class='block-gone'>Row &lt;video&gt; &amp; &quot;more&quot; on Home</p>\n"
    )


def test_a_project_copy_of_a_removed_template_is_ignored_and_reported(settings, tmp_path):
    assert not [m for m in run_checks() if m.id == "wagtail_kollus.W020"]
    project_templates(
        settings,
        tmp_path,
        {
            "wagtail_kollus/player/iframe.html": "<p>old override</p>",
            "wagtail_kollus/blocks/kollus_video.html": "<p>old block override</p>",
        },
    )
    html = KollusVideoBlock().render(block_value(), {"request": viewer_request()})
    assert "old" not in html and "<iframe" in html
    [warning] = [m for m in run_checks() if m.id == "wagtail_kollus.W020"]
    assert "wagtail_kollus/player/iframe.html" in warning.msg
    assert "wagtail_kollus/blocks/kollus_video.html" in warning.msg
    assert "template=" in warning.hint
    assert set(REMOVED_PLAYER_TEMPLATES) >= {"wagtail_kollus/player/iframe.html"}


# --- what follows the settings, the URLconf and the request ------------------------------------

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


def test_a_pages_cache_safe_players_look_their_urls_up_once_per_request(monkeypatch):
    """reverse() and static() cost more than the rest of a player; a request's answers are
    kept on the request only, so the next request (another script prefix) asks again."""
    from wagtail_kollus.playback import markup

    calls = []
    for name in ("reverse", "static"):
        real = getattr(markup, name)
        monkeypatch.setattr(
            markup, name, lambda *args, _real=real, _name=name: calls.append(_name) or _real(*args)
        )
    page = viewer_request()
    players = [render_player(f"mck-{n}", request=page, cache_safe=True) for n in range(5)]
    assert all('data-kollus-token-url="/kollus/player/token/"' in html for html in players)
    assert sorted(calls) == ["reverse", "static"]
    set_script_prefix("/site/")
    try:
        assert 'data-kollus-token-url="/site/kollus/player/token/"' in cache_safe_player()
    finally:
        set_script_prefix("/")
    assert len(calls) == 4


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


def test_the_player_url_follows_the_settings(settings):
    html = KollusVideoBlock().render(block_value(), {"request": viewer_request()})
    assert src_query(html)["custom_key"] == ["sandbox-custom-key"]
    settings.WAGTAIL_KOLLUS = {
        **settings.WAGTAIL_KOLLUS,
        "KOLLUS_CUSTOM_KEY": "another-custom-key",
        "KOLLUS_SECURITY_KEY": "another-security-key",
        "PLAYER_TOKEN_LIFETIME": 60,
    }
    html = KollusVideoBlock().render(block_value(), {"request": viewer_request()})
    assert unescape(re.search(r' src="([^"]+)"', html).group(1)).startswith(
        settings.WAGTAIL_KOLLUS["PLAYER_URL"].rstrip("/") + "/s?jwt="
    )
    assert src_query(html)["custom_key"] == ["another-custom-key"]
    claims = claims_in(html, "another-security-key")
    assert 0 < claims["expt"] - time.time() <= 61


def test_each_viewer_gets_their_own_token_and_a_page_asks_once_per_viewer():
    value = block_value()
    first, second = viewer_request(), viewer_request()
    cuids = [
        claims_in(KollusVideoBlock().render(value, {"request": request}))["cuid"]
        for request in (first, second, first)
    ]
    assert cuids[0] == cuids[2] != cuids[1]
    assert cuids[0] == first.session[ANONYMOUS_CUID_SESSION_KEY]


def test_a_value_subclass_renders_through_its_own_methods():
    class ThumbnailValue(KollusVideoValue):
        def mc_options(self):
            return {**super().mc_options(), "thumbnail": "https://img.example/t.jpg"}

    class ThumbnailBlock(KollusVideoBlock):
        class Meta:
            value_class = ThumbnailValue

    block = ThumbnailBlock()
    html = block.render(block_value(block), {"request": viewer_request()})
    assert claims_in(html)["mc"][0]["thumbnail"] == "https://img.example/t.jpg"


def test_values_are_escaped_once_and_markup_a_template_marked_safe_is_kept():
    hostile = render_player(
        KollusVideo(pk=5, title="t", media_content_key="mck-5"),
        request=viewer_request(),
        css_class='wide" onload="x',
    )
    assert 'class="kollus-player wide&quot; onload=&quot;x"' in hostile
    literal = Template("{% load kollus %}{% kollus_player 'mck-5' css_class='a&b' %}").render(
        Context({"request": viewer_request()})
    )
    assert 'class="kollus-player a&b"' in literal  # a template literal is already safe


def test_sizes_are_plain_numbers_even_with_thousand_separators(settings):
    settings.USE_THOUSAND_SEPARATOR = True
    html = render_player("mck-1", request=viewer_request(), width=1280, height="1080")
    assert 'width="1280" height="1080"' in html
    assert "aspect-ratio:1280 / 1080;max-width:1280px" in html


# --- content problems are placeholders, not errors ----------------------------------------------


def test_an_over_long_key_is_the_placeholder_not_a_broken_player(caplog):
    value = block_value()
    value["video"].media_content_key = "k" * 101
    with caplog.at_level(logging.WARNING, logger="wagtail_kollus.player"):
        html = KollusVideoBlock().render(value, {"request": viewer_request()})
    assert "<iframe" not in html and "kollus-player--unavailable" in html
    assert "at most 100 characters" in caplog.text


def test_a_missing_security_key_is_the_placeholder(settings, caplog):
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "KOLLUS_SECURITY_KEY": ""}
    with caplog.at_level(logging.WARNING, logger="wagtail_kollus.player"):
        html = KollusVideoBlock().render(block_value(), {"request": viewer_request()})
    assert "<iframe" not in html
    assert "KOLLUS_SECURITY_KEY" in caplog.text


def test_an_unplayable_video_renders_the_unavailable_notice():
    value = block_value()
    # What availability writes while the media transcodes (the block never reads the media).
    value["video"].media.state = MediaState.TRANSCODING
    value["video"].is_available = False
    html = KollusVideoBlock().render(value, {"request": viewer_request()})
    assert "data-kollus-unavailable" in html and "<iframe" not in html
