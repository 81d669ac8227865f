"""What an editor sees on the library's screens: the layout switch and the grid's cards, the
"stuck" filter in the editor's own language, the "refresh all stuck" action, the delete
confirmation's wording."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from wagtail.users.models import UserProfile


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

