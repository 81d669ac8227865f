"""Player options (docs/player.md, "Player options"): what the site's settings and a block's
viewing rules put in the signed token, for whom, and the clear errors for bad values.

Both signing modes are exercised: the render-time player (the token in the page) and the token
endpoint of cache-safe playback (a shared page, a token per viewer). The watermark's text is
always the viewer's own and never appears in the page's HTML.
"""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.signed_cookies import SessionStore
from django.core.checks import run_checks
from django.test import RequestFactory
from django.urls import reverse
from wagtail.blocks.struct_block import StructBlockValidationError

from tests.factories import make_page, make_video, struct_value, video_block_data
from wagtail_kollus.blocks import KollusVideoBlock
from wagtail_kollus.playback import build_payload, sign_token
from wagtail_kollus.playback.markup import render_player
from wagtail_kollus.playback.options import (
    WATERMARK_CLAIM,
    WATERMARK_DEFAULTS,
    clean_watermark,
    subtitle_language,
)
from wagtail_kollus.playback.viewer import user_viewer_id

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.filterwarnings("ignore::jwt.InsecureKeyLengthWarning"),
]

SECURITY_KEY = "sandbox-security-key"
WATERMARK = {"code": "email", "font_size": 12, "font_color": "#ff0000", "alpha": 200}


@pytest.fixture
def options(settings):
    """Set player options over the test settings: ``options(PLAYER_WATERMARK=...)``."""

    def apply(**values):
        settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, **values}

    return apply


@pytest.fixture
def members(django_user_model):
    make = django_user_model.objects.create_user
    return (
        make("ann", "ann@example.com", "pw", first_name="Ann", last_name="Lee"),
        make("bob", "bob@example.com", "pw", first_name="Bob", last_name="Kim"),
    )


def request_of(user=None):
    request = RequestFactory().get("/")
    request.user = user or AnonymousUser()
    request.session = SessionStore()
    return request


def claims_in_page(markup: str) -> dict:
    src = html.unescape(re.search(r' src="([^"]+)"', markup).group(1))
    return claims_of(src)


def claims_of(url: str) -> dict:
    token = parse_qs(urlsplit(url).query)["jwt"][0]
    return jwt.decode(token, SECURITY_KEY, algorithms=["HS256"])


def token_claims(client, reference: str, address: str = "203.0.113.7") -> dict:
    response = client.get(
        reverse("wagtail_kollus:player_token"), {"reference": reference}, REMOTE_ADDR=address
    )
    assert response.status_code == 200, response.content
    return claims_of(response.json()["url"])


def reference_in(markup: str) -> str:
    return html.unescape(re.search(r'data-kollus-reference="([^"]+)"', markup).group(1))


# --- defaults: nothing added -----------------------------------------------------------------


def test_default_settings_add_no_claim_and_no_item_option():
    claims = claims_in_page(render_player(struct_value(make_video(1)), request=request_of()))
    assert set(claims) == {"cuid", "expt", "mc"}
    assert claims["mc"] == [
        {"mckey": "mckey0001", "seek": True, "disable_playrate": False, "title": "Lesson 1"}
    ]


# --- the watermark -----------------------------------------------------------------------------


def test_the_site_watermark_shows_the_viewers_own_email_only_in_the_signed_token(options, members):
    options(PLAYER_WATERMARK=WATERMARK)
    ann, bob = members
    value = struct_value(make_video(1))
    for user in (ann, bob):
        markup = render_player(value, request=request_of(user))
        watermark = claims_in_page(markup)[WATERMARK_CLAIM]
        assert watermark == {
            "code_kind": user.email,
            "font_size": 12,
            "font_color": "FF0000",
            "alpha": 200,
            "show_time": WATERMARK_DEFAULTS["show_time"],
            "hide_time": WATERMARK_DEFAULTS["hide_time"],
            "enable_html5_player": True,
        }
        # Base64 in the token, never readable in the markup around it.
        assert user.email not in markup and user.email not in html.unescape(markup)


def test_a_cached_page_carries_the_choice_and_each_viewer_gets_their_own_code(
    client, options, members
):
    options(PLAYER_WATERMARK={"code": "name"})
    ann, bob = members
    page = make_page([video_block_data(make_video(1))])
    # The page's copy, rendered for Ann and served from a cache to everyone.
    markup = render_player(page.body[0].value, request=request_of(ann), page=page, cache_safe=True)
    assert "Ann" not in markup and ann.email not in markup
    reference = reference_in(markup)
    client.force_login(bob)
    assert token_claims(client, reference)[WATERMARK_CLAIM]["code_kind"] == "Bob Kim"
    client.force_login(ann)
    assert token_claims(client, reference)[WATERMARK_CLAIM]["code_kind"] == "Ann Lee"
    client.logout()
    anonymous = token_claims(client, reference)
    assert anonymous[WATERMARK_CLAIM]["code_kind"] == anonymous["cuid"]
    assert anonymous["cuid"].startswith("anon-")


def test_the_user_id_code_is_the_viewer_id_kollus_already_knows(options, members):
    options(PLAYER_WATERMARK={"code": "user_id"})
    claims = claims_in_page(
        render_player(struct_value(make_video(1)), request=request_of(members[0]))
    )
    assert claims[WATERMARK_CLAIM]["code_kind"] == claims["cuid"]
    assert claims["cuid"] == user_viewer_id(members[0].pk)  # an HMAC, not the pk


def test_a_user_without_that_field_falls_back_to_their_viewer_id(options, django_user_model):
    options(PLAYER_WATERMARK={"code": "email"})
    user = django_user_model.objects.create_user("noemail", "", "pw")
    claims = claims_in_page(render_player(struct_value(make_video(1)), request=request_of(user)))
    assert claims[WATERMARK_CLAIM]["code_kind"] == claims["cuid"]


def test_a_block_turns_the_site_watermark_off_or_chooses_another_code(options, members):
    video = make_video(1)
    options(PLAYER_WATERMARK=WATERMARK)
    off = claims_in_page(
        render_player(struct_value(video, watermark="off"), request=request_of(members[0]))
    )
    assert WATERMARK_CLAIM not in off
    named = claims_in_page(
        render_player(struct_value(video, watermark="name"), request=request_of(members[0]))
    )
    # The site's style, the block's code.
    assert named[WATERMARK_CLAIM]["code_kind"] == "Ann Lee"
    assert named[WATERMARK_CLAIM]["font_size"] == 12
    # Without a site watermark, a block's choice is drawn in the default style.
    options(PLAYER_WATERMARK=None)
    alone = claims_in_page(
        render_player(struct_value(video, watermark="email"), request=request_of(members[0]))
    )
    assert alone[WATERMARK_CLAIM]["code_kind"] == "ann@example.com"
    assert alone[WATERMARK_CLAIM]["font_size"] == WATERMARK_DEFAULTS["font_size"]


# --- DRM, N-screen, subtitles, intro, no skipping ------------------------------------------------


def test_the_drm_policy_passes_through_into_every_item_in_both_modes(client, options):
    drm = {"kind": "inka", "streaming_type": "dash", "data": {"license_duration": 3600}}
    options(PLAYER_DRM_POLICY=drm, PLAYER_DISABLE_NSCREEN=True)
    value = struct_value(make_video(1))
    rendered = claims_in_page(render_player(value, request=request_of()))["mc"][0]
    cached = reference_in(render_player(value, request=request_of(), cache_safe=True))
    for item in (rendered, token_claims(client, cached)["mc"][0]):
        assert item["drm_policy"] == drm
        assert item["disable_nscreen"] is True


def test_subtitles_follow_the_pages_language_through_the_mapping(client, options):
    page = make_page([video_block_data(make_video(1))])
    value = page.body[0].value
    options(PLAYER_SUBTITLES="page_language")
    language = page.locale.language_code
    item = claims_in_page(render_player(value, request=request_of(), page=page))["mc"][0]
    assert item["subtitle_policy"] == {"filter_main": [subtitle_language(language)]}
    options(
        PLAYER_SUBTITLES="page_language",
        SUBTITLE_LANGUAGES={language: "xx"},
        SUBTITLE_POLICY_TEMPLATE={"filter_main": ["{language}"], "filter_sub": ["{language}"]},
    )
    reference = reference_in(render_player(value, request=request_of(), page=page, cache_safe=True))
    item = token_claims(client, reference)["mc"][0]
    assert item["subtitle_policy"] == {"filter_main": ["xx"], "filter_sub": ["xx"]}
    # A locale mapped to None: Kollus's own default subtitles.
    options(PLAYER_SUBTITLES="page_language", SUBTITLE_LANGUAGES={language: None})
    item = claims_in_page(render_player(value, request=request_of(), page=page))["mc"][0]
    assert "subtitle_policy" not in item


def test_a_region_locale_falls_back_to_its_base_language(options):
    assert subtitle_language("en-GB") == "en"
    options(SUBTITLE_LANGUAGES={"en_GB": "en-uk"})
    assert subtitle_language("en-gb") == "en-uk"
    assert subtitle_language(None) is None


def test_the_intro_plays_first_unless_the_block_skips_it(options):
    options(PLAYER_INTRO_MEDIA_CONTENT_KEY="intro-key")
    video = make_video(1)
    items = claims_in_page(render_player(struct_value(video), request=request_of()))["mc"]
    assert items[0] == {"mckey": "intro-key", "intr": True}
    assert items[1]["mckey"] == "mckey0001"
    skipped = claims_in_page(
        render_player(struct_value(video, skip_intro=True), request=request_of())
    )
    assert [item["mckey"] for item in skipped["mc"]] == ["mckey0001"]


def test_a_no_skip_block_signs_seek_false_and_its_seekable_end(client):
    video = make_video(1, duration_seconds=600)
    value = struct_value(video, no_skip=True, seekable_end=45, disable_nscreen=True)
    item = claims_in_page(render_player(value, request=request_of()))["mc"][0]
    assert item["seek"] is False and item["seekable_end"] == 45
    assert item["disable_nscreen"] is True
    reference = reference_in(render_player(value, request=request_of(), cache_safe=True))
    cached = token_claims(client, reference)["mc"][0]
    assert cached["seek"] is False and cached["seekable_end"] == 45
    # No opening given: seek false alone, no seeking ahead at all.
    plain = claims_in_page(render_player(struct_value(video, no_skip=True), request=request_of()))
    assert plain["mc"][0]["seek"] is False and "seekable_end" not in plain["mc"][0]


# --- validation ------------------------------------------------------------------------------


def test_a_seeking_limit_without_no_skip_or_past_the_end_is_refused():
    video = make_video(1, duration_seconds=90)
    block = KollusVideoBlock()
    with pytest.raises(StructBlockValidationError) as refused:
        block.clean(struct_value(video, seekable_end=30))
    [message] = refused.value.block_errors["seekable_end"].messages
    assert "No skipping ahead" in message
    with pytest.raises(StructBlockValidationError) as refused:
        block.clean(struct_value(video, no_skip=True, seekable_end=90))
    [message] = refused.value.block_errors["seekable_end"].messages
    assert "90 seconds long" in message
    assert block.clean(struct_value(video, no_skip=True, seekable_end=89))["seekable_end"] == 89


def test_the_blocks_watermark_choices_are_the_codes_playback_knows():
    from wagtail_kollus.blocks import WATERMARK_CHOICES
    from wagtail_kollus.playback.options import WATERMARK_CODES, WATERMARK_OFF

    assert [value for value, _ in WATERMARK_CHOICES] == ["", WATERMARK_OFF, *WATERMARK_CODES]


def test_an_unknown_watermark_choice_is_refused_by_the_block():
    with pytest.raises(StructBlockValidationError) as refused:
        KollusVideoBlock().clean(struct_value(make_video(1), watermark="phone"))
    assert "watermark" in refused.value.block_errors


@pytest.mark.parametrize(
    ("name", "value", "check_id", "words"),
    [
        ("PLAYER_WATERMARK", {"code": "phone"}, "E030", "'phone'"),
        ("PLAYER_WATERMARK", {"code": "email", "alpha": 300}, "E030", "0 to 255"),
        ("PLAYER_WATERMARK", {"code": "email", "font_color": "red"}, "E030", "six hex digits"),
        ("PLAYER_WATERMARK", {"code": "email", "size": 3}, "E030", "unknown keys ['size']"),
        ("PLAYER_WATERMARK", "email", "E030", "not str"),
        ("PLAYER_DRM_POLICY", {"kind": object()}, "E031", "JSON"),
        ("PLAYER_SUBTITLES", "ko", "E032", "'page_language'"),
        ("SUBTITLE_POLICY_TEMPLATE", {"filter_main": ["ko"]}, "E033", "{language}"),
        ("SUBTITLE_LANGUAGES", {"ko": 1}, "E034", "['ko'] is 1"),
        ("PLAYER_DISABLE_NSCREEN", "yes", "E035", "True or False"),
        ("PLAYER_INTRO_MEDIA_CONTENT_KEY", 42, "E036", "media content key"),
    ],
)
def test_a_malformed_player_option_setting_is_a_check_error(options, name, value, check_id, words):
    options(**{name: value})
    [error] = [m for m in run_checks() if m.id == f"wagtail_kollus.{check_id}"]
    assert name in error.msg and words in error.msg, error.msg
    assert "docs/player.md" in error.hint


def test_the_defaults_and_a_full_configuration_pass_the_checks(options):
    assert not [m for m in run_checks() if m.id.startswith("wagtail_kollus.E03")]
    options(
        PLAYER_WATERMARK={"code": "name", **WATERMARK_DEFAULTS},
        PLAYER_DRM_POLICY={"kind": "inka"},
        PLAYER_SUBTITLES="page_language",
        SUBTITLE_LANGUAGES={"ko": "ko", "en-gb": None},
        PLAYER_DISABLE_NSCREEN=True,
        PLAYER_INTRO_MEDIA_CONTENT_KEY="intro-key",
    )
    assert not [m for m in run_checks() if m.id.startswith("wagtail_kollus.E03")]


def test_a_malformed_setting_is_the_placeholder_and_a_503_never_a_500(client, options, caplog):
    value = struct_value(make_video(1))
    reference = reference_in(render_player(value, request=request_of(), cache_safe=True))
    options(PLAYER_WATERMARK={"code": "phone"})
    markup = render_player(value, request=request_of())
    assert "<iframe" not in markup and "PLAYER_WATERMARK" in caplog.text
    response = client.get(reverse("wagtail_kollus:player_token"), {"reference": reference})
    assert response.status_code == 503
    assert "phone" not in response.content.decode()


def test_clean_watermark_fills_in_the_defaults():
    assert clean_watermark(None) is None
    assert clean_watermark({}) == {"code": "user_id", **WATERMARK_DEFAULTS}


def test_added_claims_may_not_replace_the_plugins_own():
    with pytest.raises(ValueError, match="'cuid'"):
        build_payload("mck", "viewer", claims={"cuid": "someone-else"})
    with pytest.raises(ValueError, match="registered claims"):
        sign_token(build_payload("mck", "viewer", claims={"exp": 1}), key="k")


def test_an_editor_saving_a_limit_without_no_skip_reads_the_message_not_a_500(admin_client):
    from wagtail.test.utils.form_data import nested_form_data, streamfield

    video = make_video(1, duration_seconds=600)
    page = make_page([video_block_data(video)])
    value = {"video": video.pk, "start_time": 0, "title_override": "", "allow_seek": "on"}
    data = nested_form_data(
        {
            "title": page.title,
            "slug": page.slug,
            "body": streamfield([("video", {**value, "seekable_end": 30, "watermark": "email"})]),
        }
    )
    response = admin_client.post(reverse("wagtailadmin_pages:edit", args=(page.pk,)), data)
    assert response.status_code == 200
    # The block's error, for the editor's form (Wagtail sends it to the block's JavaScript).
    [error] = response.context["form"].errors["body"].as_data()
    field_errors = error.as_json_data()["blockErrors"][0]["blockErrors"]["seekable_end"]
    [message] = field_errors["messages"]
    assert message.startswith("This limit applies only with “No skipping ahead”")
    page.refresh_from_db()
    assert page.get_latest_revision_as_object().body[0].value["seekable_end"] is None  # unsaved
    # Ticked, the same values are saved.
    data["body-0-value-no_skip"] = "on"
    response = admin_client.post(reverse("wagtailadmin_pages:edit", args=(page.pk,)), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    page.refresh_from_db()
    latest = page.get_latest_revision_as_object().body[0].value
    assert latest["no_skip"] and latest["seekable_end"] == 30 and latest["watermark"] == "email"
