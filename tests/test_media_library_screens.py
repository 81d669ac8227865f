"""What an editor sees on the library's screens: the layout switch and the grid's cards, the
"stuck" filter in the editor's own language, the "refresh all stuck" action, the delete
confirmation's wording."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse
from django.utils import timezone

from tests.factories import editor_speaking, page_using
from wagtail_kollus.models import KollusMedia, MediaState


def stuck_filter_choices(html: str) -> list[str]:
    select = re.search(r'<select name="stuck".*?</select>', html, re.S)
    assert select, "the stuck filter is on the page"
    return [label.strip() for label in re.findall(r"<option[^>]*>(.*?)</option>", select.group(0))]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", ["Unknown", "Yes", "No"]), ("ko", ["알 수 없음", "예", "아니오"])],
)
def test_the_stuck_filter_speaks_the_editors_language_not_the_servers(
    client, django_user_model, settings, language, expected
):
    # Whichever language the server runs in, each editor reads the choices in theirs (they
    # used to be translated once, at import).
    settings.LANGUAGE_CODE = "ko" if language == "en" else "en"
    html = editor_speaking(client, django_user_model, language).get(
        reverse("kollus_media:index")
    ).content.decode()
    assert stuck_filter_choices(html) == expected


# --- the layout switch and the grid's cards ---------------------------------------------------


def library_css_rules() -> dict[str, str]:
    """``{selector: declarations}`` of the library's stylesheet, whitespace squeezed."""
    path = finders.find("wagtail_kollus/css/library.css")
    assert path, "the library's stylesheet is a static file"
    css = re.sub(r"/\*.*?\*/", "", Path(path).read_text(encoding="utf-8"), flags=re.S)
    return {
        " ".join(selector.split()): " ".join(body.split())
        for selector, body in re.findall(r"([^{}]+)\{([^}]*)\}", css)
    }


def loads_library_css(html: str) -> bool:
    return re.search(r'<link rel="stylesheet" href="[^"]*wagtail_kollus/css/library\.css"', html) is not None


@pytest.mark.django_db
def test_the_layout_switch_icons_are_sized_like_wagtails_header_icons(admin_client):
    # An <svg class="icon"> outside Wagtail's sized containers is drawn at 300 x 150 px.
    KollusMedia.objects.create(title="Clip", upload_file_key="ufk-clip", state=MediaState.READY)
    html = admin_client.get(reverse("kollus_media:index")).content.decode()
    assert loads_library_css(html)
    switch = re.search(r"<div[^>]*data-kollus-layout-switch.*?</div>", html, re.S).group(0)
    icons = re.findall(r'<svg class="([^"]*)"', switch)
    assert len(icons) == 2
    for classes in icons:
        assert {"icon", "w-w-4", "w-h-4"} <= set(classes.split())  # Wagtail's 1rem utilities
    rule = library_css_rules()["[data-kollus-layout-switch] .button .icon"]
    assert "width: 1rem;" in rule and "height: 1rem;" in rule


@pytest.mark.django_db
def test_a_card_without_a_poster_is_a_16_9_box_with_a_small_icon(admin_client):
    KollusMedia.objects.create(title="No poster", upload_file_key="ufk-np", state=MediaState.READY)
    html = admin_client.get(reverse("kollus_media:index"), {"layout": "grid"}).content.decode()
    assert loads_library_css(html)
    box = re.search(r'<div class="kollus-library-grid__no-poster"[^>]*>(.*?)</div>', html, re.S)
    assert box, "the card shows the placeholder"
    icon_classes = re.search(r'<svg class="([^"]*)"', box.group(1)).group(1).split()
    assert {"icon", "icon-media", "w-w-8", "w-h-8"} <= set(icon_classes)
    rules = library_css_rules()
    placeholder = rules[".kollus-library-grid__no-poster"]
    # The poster's box: 165 px wide, 16:9, centred content.
    for declaration in (
        "width: 165px;",
        "aspect-ratio: 16 / 9;",
        "align-items: center;",
        "justify-content: center;",
    ):
        assert declaration in placeholder
    icon = rules[".kollus-library-grid__no-poster .icon"]
    assert "width: 2rem;" in icon and "height: 2rem;" in icon


# --- "Refresh all stuck videos" -------------------------------------------------------------


def messages_of(response) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m).strip()) for m in response.context["messages"]]


@pytest.mark.django_db
def test_with_nothing_stuck_refresh_all_is_not_offered_and_says_so_when_posted(admin_client):
    KollusMedia.objects.create(title="Fine", upload_file_key="ufk-fine", state=MediaState.READY)
    refresh_stuck = reverse("kollus_media:refresh_stuck")
    assert refresh_stuck not in admin_client.get(reverse("kollus_media:index")).content.decode()

    response = admin_client.post(refresh_stuck, follow=True)
    assert messages_of(response) == [("info", "No video is stuck.")]


@pytest.mark.django_db
def test_with_a_stuck_video_refresh_all_is_offered(admin_client):
    media = KollusMedia.objects.create(
        title="Silent", upload_file_key="ufk-silent", state=MediaState.TRANSCODING
    )
    KollusMedia.objects.filter(pk=media.pk).update(created_at=timezone.now() - timedelta(days=2))
    html = admin_client.get(reverse("kollus_media:index")).content.decode()
    assert reverse("kollus_media:refresh_stuck") in html


# --- delete ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_delete_confirmation_does_not_point_at_a_list_the_page_does_not_show(admin_client):
    media = KollusMedia.objects.create(title="Used", upload_file_key="ufk-used", state=MediaState.READY)
    page_using(media)
    html = admin_client.get(reverse("kollus_media:delete", args=(media.pk,))).content.decode()
    assert "See where" in html  # the places are linked, not listed
    assert "listed above" not in html
    assert (
        "I understand that the pages and content records using this video will show a "
        "placeholder instead of it." in html
    )
