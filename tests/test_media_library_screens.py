"""What an editor sees on the library's screens: the layout switch and the grid's cards, the
"stuck" filter in the editor's own language, the "refresh all stuck" action, the delete
confirmation's wording."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from wagtail.users.models import UserProfile

from tests.factories import page_using
from wagtail_kollus.models import KollusMedia, MediaState


def editor_speaking(client, django_user_model, language: str):
    user = django_user_model.objects.create_superuser(f"editor-{language}", "e@example.com", "pw")
    profile = UserProfile.get_for_user(user)
    profile.preferred_language = language
    profile.save()
    client.force_login(user)
    return client


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
