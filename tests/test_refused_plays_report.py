"""The refused plays report (Reports → Kollus refused plays): who may read it, what it lists,
its filters, its CSV export, hostile titles, and the link from the callback log."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from django.utils import timezone
from wagtail.models import Page

from tests.testapp.models import VideoPage
from wagtail_kollus.models import KollusVideo, RefusedPlay

from .security_support import hostile_title, html_of, unsafe_markup

pytestmark = pytest.mark.django_db
URL = "wagtail_kollus_refused_plays:index"


@pytest.fixture
def pages():
    home = Page.objects.get(depth=2)
    return {
        "lesson": home.add_child(instance=VideoPage(title="Lesson 1", slug="lesson-1")),
        "other": home.add_child(instance=VideoPage(title="Other lesson", slug="other")),
    }


@pytest.fixture
def rows(pages, django_user_model):
    learner = django_user_model.objects.create_user(
        "learner", "learner@example.com", "pw", first_name="Lea", last_name="Rner"
    )
    KollusVideo.objects.create(title="Intro video", media_content_key="mck-1")
    now = timezone.now()
    made = {
        "anonymous": RefusedPlay.objects.create(
            refused_at=now - timezone.timedelta(days=1),
            cuid="anon-1",
            page=pages["lesson"],
            media_content_key="mck-1",
            kind=1,
            reason="login_required",
            message="Log in to watch this video.",
        ),
        "member": RefusedPlay.objects.create(
            refused_at=now - timezone.timedelta(days=10),
            cuid="user-abc",
            user=learner,
            page=pages["other"],
            media_content_key="mck-2",
            kind=3,
            reason="stream_limit",
            message="You can watch on 2 devices at a time.",
        ),
        "forged": RefusedPlay.objects.create(
            refused_at=now - timezone.timedelta(days=3), cuid="x", reason="invalid_context"
        ),
    }
    return made


def reader(django_user_model, name="reader", *codenames):
    user = django_user_model.objects.create_user(name, f"{name}@example.com", "pw")
    group = Group.objects.create(name=f"{name}-group")
    group.permissions.add(Permission.objects.get(codename="access_admin"))
    for codename in codenames:
        group.permissions.add(
            Permission.objects.get(content_type__app_label="wagtail_kollus", codename=codename)
        )
    user.groups.add(group)
    return user


def listed(response) -> list[int]:
    html = response.content.decode()
    return [row.pk for row in RefusedPlay.objects.all() if f'data-kollus-refused-play="{row.pk}"' in html]


def test_it_lists_when_viewer_page_video_and_reason(client, rows, django_user_model):
    client.force_login(reader(django_user_model, "reader", "view_refusedplay"))
    response = client.get(reverse(URL))
    assert response.status_code == 200
    html = response.content.decode()
    # Newest first.
    assert listed(response) == [rows["anonymous"].pk, rows["forged"].pk, rows["member"].pk]
    for text in (
        "anonymous",
        "Lea Rner",
        "Lesson 1",
        "Intro video",
        "mck-2",
        "Login required",
        "Too many streams",
        "No valid play context",
        "Log in to watch this video.",
        "Player ready (3)",
    ):
        assert text in html, text


@pytest.mark.parametrize(
    "query, expected",
    [
        ({"reason": "stream_limit"}, ["member"]),
        ({"viewer": "anonymous"}, ["anonymous", "forged"]),
        ({"viewer": "learner@"}, ["member"]),
        ({"viewer": "nobody"}, []),
        ("page", ["member"]),
        ("dates", ["anonymous", "forged"]),
    ],
    ids=["reason", "anonymous", "user", "no-user", "page", "date-range"],
)
def test_filters(client, rows, pages, query, expected, django_user_model):
    client.force_login(reader(django_user_model, "reader", "view_refusedplay"))
    if query == "page":
        query = {"page": pages["other"].pk}
    elif query == "dates":
        today = timezone.localdate()
        query = {
            "refused_at_from": (today - timezone.timedelta(days=5)).isoformat(),
            "refused_at_to": today.isoformat(),
        }
    for name in (URL, "wagtail_kollus_refused_plays:index_results"):
        response = client.get(reverse(name), query)
        assert response.status_code == 200
        assert sorted(listed(response)) == sorted(rows[key].pk for key in expected), name


def test_csv_export_holds_every_filtered_row(client, rows, django_user_model):
    client.force_login(reader(django_user_model, "reader", "view_refusedplay"))
    response = client.get(reverse(URL), {"export": "csv", "viewer": "anonymous"})
    assert response.status_code == 200
    assert "kollus-refused-plays-" in response["Content-Disposition"]
    content = b"".join(response.streaming_content).decode()
    table = list(csv.DictReader(io.StringIO(content)))
    assert [row["Reason code"] for row in table] == ["login_required", "invalid_context"]
    assert table[0]["Viewer"] == "anonymous" and table[0]["Page"] == "Lesson 1"
    assert table[0]["Video"] == "Intro video" and table[0]["Callback kind"] == "1"
    xlsx = client.get(reverse(URL), {"export": "xlsx"})
    assert xlsx.status_code == 200 and b"".join(xlsx.streaming_content)[:2] == b"PK"


def test_it_needs_its_own_permission_and_so_does_its_menu_item(client, rows, django_user_model):
    # Who sees the video library (and the callback log) does not see viewers' refusals.
    client.force_login(reader(django_user_model, "librarian", "view_kollusmedia"))
    assert client.get(reverse(URL)).status_code == 302
    log = client.get(reverse("wagtail_kollus_callbacks:index")).content.decode()
    assert "data-kollus-refused-plays-link" not in log
    assert reverse(URL) not in client.get(reverse("wagtailadmin_home")).content.decode()
    client.force_login(reader(django_user_model, "reader", "view_refusedplay", "view_kollusmedia"))
    assert client.get(reverse(URL)).status_code == 200
    log = client.get(reverse("wagtail_kollus_callbacks:index")).content.decode()
    assert "data-kollus-refused-plays-link" in log and reverse(URL) in log
    assert reverse(URL) in client.get(reverse("wagtailadmin_home")).content.decode()


def test_the_permission_can_be_given_to_groups(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root", "r@example.com", "pw"))
    html = client.get(reverse("wagtailusers_groups:add")).content.decode()
    permission = Permission.objects.get(codename="view_refusedplay")
    assert f'value="{permission.pk}"' in html


def test_deleted_users_and_pages_are_named_by_id(client, rows, pages, django_user_model):
    member = rows["member"]
    user_id, page_id = member.user_id, member.page_id
    django_user_model.objects.filter(pk=user_id).delete()
    pages["other"].delete()
    client.force_login(reader(django_user_model, "reader", "view_refusedplay"))
    html = client.get(reverse(URL)).content.decode()
    assert f"deleted user #{user_id}" in html and f"deleted page #{page_id}" in html


def test_hostile_page_titles_and_messages_are_escaped(client, pages, django_user_model):
    page = pages["lesson"]
    page.title = hostile_title("page")
    page.save()
    user = django_user_model.objects.create_user(hostile_title("user")[:150], "h@example.com", "pw")
    RefusedPlay.objects.create(
        page=page,
        user=user,
        cuid="<script>alert(1)</script>",
        media_content_key="<script>alert(1)</script>",
        reason="<script>alert(1)</script>",
        message=hostile_title("message"),
    )
    client.force_login(django_user_model.objects.create_superuser("root", "r@example.com", "pw"))
    for name in (URL, "wagtail_kollus_refused_plays:index_results"):
        response = client.get(reverse(name), {"viewer": "<script>alert(1)</script>x"})
        assert response.status_code == 200 and "data-kollus-refused-play" not in html_of(response)
        assert not unsafe_markup(html_of(response))
        response = client.get(reverse(name))
        assert response.status_code == 200
        html = html_of(response)
        assert not unsafe_markup(html), unsafe_markup(html)[:3]
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_csv_export_is_in_the_editors_language_not_the_sites(
    client, rows, django_user_model, settings
):
    """Wagtail streams a CSV after the view returns, when the admin has deactivated the
    editor's language: on a Korean site an English editor got Korean headings and reasons,
    while the XLSX was in English."""
    from django.utils import translation
    from wagtail.users.models import UserProfile

    settings.LANGUAGE_CODE = "ko"
    editor = reader(django_user_model, "reader", "view_refusedplay")
    profile = UserProfile.get_for_user(editor)
    profile.preferred_language = "en"
    profile.save()
    client.force_login(editor)
    response = client.get(reverse(URL), {"export": "csv", "viewer": "anonymous"})
    with translation.override("ko"):  # the server thread's language while it streams
        content = b"".join(response.streaming_content).decode()
        assert translation.get_language() == "ko"  # and given back between the chunks
    table = list(csv.DictReader(io.StringIO(content)))
    assert [row["Reason"] for row in table] == ["Login required", "No valid play context"]
    assert table[0]["Reason code"] == "login_required"
    profile.preferred_language = "ko"
    profile.save()
    korean = client.get(reverse(URL), {"export": "csv", "viewer": "anonymous"})
    with translation.override("en"):
        content = b"".join(korean.streaming_content).decode()
    assert list(csv.DictReader(io.StringIO(content)))[0]["사유"] == "로그인 필요"
