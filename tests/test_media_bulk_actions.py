"""The library as a grid of posters (the list kept as an option) and its bulk actions through
Wagtail's bulk-action framework: refresh from Kollus, set category, delete with the usage
guard. Kollus is the sandbox, over real HTTP.
"""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_q.models import OrmQ

from tests.factories import page_using
from tests.media_support import make_user
from wagtail_kollus.media.filters import forget_live_media_count
from wagtail_kollus.models import KollusMedia, KollusMediaCategory, MediaState

HOSTILE = "<script>alert('x')</script> clip"


def bulk_url(action: str, *media: KollusMedia, next_url: str = "") -> str:
    ids = "&".join(f"id={m.pk}" for m in media)
    url = reverse("wagtail_bulk_action", args=("wagtail_kollus", "kollusmedia", action))
    return f"{url}?{ids}" + (f"&next={next_url}" if next_url else "")


def queued(func: str) -> list[tuple]:
    return [tuple(q.task["args"]) for q in OrmQ.objects.all() if q.func().endswith(func)]


def messages_of(response) -> list[tuple[str, str]]:
    # Wagtail's admin messages end with the (empty) markup of their buttons.
    return [(m.level_tag, str(m).strip()) for m in response.context["messages"]]


def sandbox_media(kollus, count: int, **fields) -> list[KollusMedia]:
    """Library rows for ``count`` of the sandbox's transcoded media (still "transcoding" here,
    so a refresh has something to change)."""
    with kollus.state.lock:
        keys = [k for k, m in kollus.state.media.items() if m["stage"] == "completed"][:count]
    return [
        KollusMedia.objects.create(
            title=fields.get("title", f"Video {n}"),
            upload_file_key=key,
            state=MediaState.TRANSCODING,
            poster_url=f"https://posters.example/{n}.jpg",
        )
        for n, key in enumerate(keys)
    ]


def rows(count: int, title: str = "Row") -> list[KollusMedia]:
    # bulk_create sends no post_save: forget the library's cached count as a save would.
    forget_live_media_count()
    return KollusMedia.objects.bulk_create(
        KollusMedia(
            title=f"{title} {n}",
            upload_file_key=f"ufk-{title}-{n}",
            state=MediaState.READY,
            poster_url=f"https://posters.example/{n}.jpg",
            duration_seconds=60 + n,
        )
        for n in range(count)
    )


# --- the grid and the list ------------------------------------------------------------------


@pytest.mark.django_db
def test_the_library_is_a_grid_of_posters_with_state_badges_and_checkboxes(admin_client):
    [failed] = rows(1, "Broken")
    failed.state, failed.error_message = MediaState.FAILED, "Transcoding failed"
    failed.save()
    html = admin_client.get(reverse("kollus_media:index")).content.decode()
    assert "data-kollus-library-grid" in html
    assert 'src="https://posters.example/0.jpg"' in html
    assert 'data-kollus-state="failed"' in html and "Transcoding failed" in html
    assert f'data-object-id="{failed.pk}"' in html  # Wagtail's bulk-action checkbox
    assert 'data-bulk-action-footer="KOLLUSMEDIA"' in html
    for action in ("refresh", "set_category", "delete"):
        url = reverse("wagtail_bulk_action", args=("wagtail_kollus", "kollusmedia", action))
        assert url in html
    assert "add_to_collection" not in html  # KollusMedia has no collection


@pytest.mark.django_db
def test_the_list_layout_is_kept_as_an_option_and_remembered(admin_client):
    rows(2)
    index = reverse("kollus_media:index")
    listed = admin_client.get(index, {"layout": "list"}).content.decode()
    assert "data-kollus-library-grid" not in listed and "<table" in listed
    assert 'id="kollusmedia_' in listed  # the title the checkbox's aria-describedby names
    # Remembered for this editor: the next visit without ?layout= is the list again.
    assert "<table" in admin_client.get(index).content.decode()
    assert "data-kollus-library-grid" in admin_client.get(index, {"layout": "grid"}).content.decode()
    assert "data-kollus-library-grid" in admin_client.get(index).content.decode()
    # The switch keeps the search.
    html = admin_client.get(index, {"q": "Row"}).content.decode()
    assert "q=Row&amp;layout=list" in html


@pytest.mark.django_db
@pytest.mark.parametrize("layout", ["grid", "list"])
def test_the_library_costs_the_same_queries_for_a_page_of_5_or_20(admin_client, layout):
    index = reverse("kollus_media:index")
    rows(5, "Few")
    admin_client.get(index, {"layout": layout})  # warm caches (count, categories, session)
    with CaptureQueriesContext(connection) as few:
        admin_client.get(index, {"layout": layout})
    rows(40, "Many")
    admin_client.get(index, {"layout": layout})
    with CaptureQueriesContext(connection) as many:
        response = admin_client.get(index, {"layout": layout})
    assert response.context["page_obj"].paginator.per_page == 20
    assert len(response.context["object_list"]) == 20
    assert len(many) == len(few)


@pytest.mark.django_db
def test_hostile_titles_are_escaped_in_grid_and_confirmation(admin_client):
    [media] = rows(1, HOSTILE)
    grid = admin_client.get(reverse("kollus_media:index")).content.decode()
    confirm = admin_client.get(bulk_url("delete", media)).content.decode()
    for html in (grid, confirm):
        assert "<script>alert" not in html
        assert "&lt;script&gt;alert" in html


# --- refresh -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_bulk_refresh_reads_the_first_now_and_queues_the_others(admin_client, kollus):
    media = sandbox_media(kollus, 5)
    index = reverse("kollus_media:index")
    confirm = admin_client.get(bulk_url("refresh", *media))
    assert confirm.status_code == 200
    assert all(m.title in confirm.content.decode() for m in media)

    response = admin_client.post(bulk_url("refresh", *media, next_url=index), follow=True)

    assert ("success", "5 videos will be refreshed from Kollus.") in messages_of(response)
    # One read in the request (a failure would show at once), the others queued.
    [first] = KollusMedia.objects.filter(state=MediaState.READY)
    others = sorted((m.pk,) for m in media if m.pk != first.pk)
    assert sorted(queued("refresh_media")) == others


@pytest.mark.django_db
def test_bulk_refresh_when_kollus_is_down_is_a_message_and_queues_nothing(admin_client, kollus):
    media = sandbox_media(kollus, 3)
    kollus.faults.set("kollus.media_detail", status=503, times=20)
    index = reverse("kollus_media:index")
    response = admin_client.post(bulk_url("refresh", *media, next_url=index), follow=True)
    shown = messages_of(response)
    assert [level for level, _text in shown] == ["error", "warning"]
    assert "HTTP 503" in shown[0][1]
    assert queued("refresh_media") == []
    assert set(KollusMedia.objects.values_list("state", flat=True)) == {MediaState.TRANSCODING}


# --- set category --------------------------------------------------------------------------


@pytest.mark.django_db
def test_bulk_set_category_saves_and_queues_the_push(admin_client):
    KollusMediaCategory.objects.create(category_key="cat-lessons", name="Lessons")
    media = rows(3)
    media[2].category_key, media[2].category_name = "cat-lessons", "Lessons"
    media[2].save()
    form = admin_client.get(bulk_url("set_category", *media)).content.decode()
    assert 'value="cat-lessons"' in form

    response = admin_client.post(
        bulk_url("set_category", *media, next_url=reverse("kollus_media:index")),
        {"category_key": "cat-lessons"},
        follow=True,
    )

    assert response.status_code == 200
    assert set(KollusMedia.objects.values_list("category_key", "category_name")) == {
        ("cat-lessons", "Lessons")
    }
    # The one that already had it is not pushed again.
    assert sorted(queued("push_metadata")) == sorted((m.pk,) for m in media[:2])


@pytest.mark.django_db
def test_bulk_set_category_refuses_an_unknown_category(admin_client):
    media = rows(2)
    response = admin_client.post(bulk_url("set_category", *media), {"category_key": "nope"})
    assert response.status_code == 200  # the form again, with its error
    assert "Select a valid choice" in response.content.decode()
    assert set(KollusMedia.objects.values_list("category_key", flat=True)) == {""}


def selected_category(form_html: str) -> str:
    """The value of the category select's selected option ("" when none is selected: the
    browser then shows the first, "Choose a category")."""
    select = re.search(r'<select name="category_key".*?</select>', form_html, re.S)
    assert select, "the form has the category select"
    chosen = re.search(r'<option value="([^"]*)"[^>]*selected', select.group(0))
    return chosen.group(1) if chosen else ""


@pytest.mark.django_db
def test_bulk_set_category_starts_on_the_category_the_videos_share(admin_client):
    KollusMediaCategory.objects.create(category_key="cat-lessons", name="Lessons")
    KollusMediaCategory.objects.create(category_key="cat-news", name="News")
    media = rows(3)
    KollusMedia.objects.filter(pk__in=[m.pk for m in media]).update(
        category_key="cat-lessons", category_name="Lessons"
    )
    form = admin_client.get(bulk_url("set_category", *media)).content.decode()
    assert selected_category(form) == "cat-lessons"

    KollusMedia.objects.filter(pk=media[0].pk).update(category_key="cat-news")
    mixed = admin_client.get(bulk_url("set_category", *media)).content.decode()
    assert selected_category(mixed) == ""
    assert "Choose a category" in mixed


@pytest.mark.django_db
def test_bulk_set_category_confirmed_straight_away_asks_for_a_choice_and_changes_nothing(
    admin_client,
):
    KollusMediaCategory.objects.create(category_key="cat-lessons", name="Lessons")
    media = rows(2)
    KollusMedia.objects.filter(pk__in=[m.pk for m in media]).update(
        category_key="cat-lessons", category_name="Lessons"
    )
    KollusMedia.objects.filter(pk=media[0].pk).update(category_key="cat-news", category_name="News")
    # What the form posts when the editor confirms without choosing: its first option.
    response = admin_client.post(bulk_url("set_category", *media), {"category_key": ""})
    assert response.status_code == 200  # the form again, with its error
    assert "Choose a category, or &quot;(none)&quot; to remove it." in response.content.decode()
    assert sorted(KollusMedia.objects.values_list("category_key", flat=True)) == [
        "cat-lessons",
        "cat-news",
    ]
    assert OrmQ.objects.count() == 0


@pytest.mark.django_db
def test_bulk_set_category_none_removes_the_category_when_chosen(admin_client):
    KollusMediaCategory.objects.create(category_key="cat-lessons", name="Lessons")
    media = rows(2)
    KollusMedia.objects.filter(pk__in=[m.pk for m in media]).update(
        category_key="cat-lessons", category_name="Lessons"
    )
    form = admin_client.get(bulk_url("set_category", *media)).content.decode()
    none_value = re.search(r'<option value="([^"]*)"[^>]*>\(none\)</option>', form).group(1)
    response = admin_client.post(
        bulk_url("set_category", *media, next_url=reverse("kollus_media:index")),
        {"category_key": none_value},
    )
    assert response.status_code == 302
    assert set(KollusMedia.objects.values_list("category_key", "category_name")) == {("", "")}
    assert sorted(queued("push_metadata")) == sorted((m.pk,) for m in media)


@pytest.mark.django_db
def test_bulk_actions_need_the_permission(client, django_user_model):
    KollusMediaCategory.objects.create(category_key="cat-lessons", name="Lessons")
    media = rows(2)
    viewer = make_user(django_user_model, "viewer", "view_kollusmedia")
    client.force_login(viewer)
    page = client.get(bulk_url("set_category", *media)).content.decode()
    assert "have permission to do this to these videos" in page
    client.post(bulk_url("set_category", *media), {"category_key": "cat-lessons"})
    client.post(bulk_url("delete", *media))
    client.post(bulk_url("refresh", *media))
    assert set(KollusMedia.objects.values_list("category_key", "state")) == {("", MediaState.READY)}
    assert OrmQ.objects.count() == 0


# --- delete --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_bulk_delete_deletes_the_unused_and_refuses_the_used(admin_client, kollus):
    unused, used = sandbox_media(kollus, 2)
    used.title = HOSTILE
    used.save()
    page_using(used)
    confirm = admin_client.get(bulk_url("delete", unused, used)).content.decode()
    assert "data-kollus-bulk-in-use" in confirm
    assert "still used, so it is not deleted here" in confirm
    assert reverse("kollus_media:delete", args=(used.pk,)) in confirm

    index = reverse("kollus_media:index")
    response = admin_client.post(bulk_url("delete", unused, used, next_url=index), follow=True)

    assert ("success", "1 video deleted.") in messages_of(response)
    assert KollusMedia.objects.get(pk=unused.pk).state == MediaState.DELETED
    assert unused.upload_file_key not in kollus.state.media
    assert KollusMedia.objects.get(pk=used.pk).state == MediaState.TRANSCODING
    assert used.upload_file_key in kollus.state.media


@pytest.mark.django_db
def test_bulk_delete_stops_at_a_kollus_error_and_keeps_what_was_done(admin_client, kollus):
    media = sandbox_media(kollus, 3, title=HOSTILE)
    kollus.faults.set("kollus.media_delete", status=503, times=20)
    index = reverse("kollus_media:index")
    response = admin_client.post(bulk_url("delete", *media, next_url=index), follow=True)
    [(level, text)] = messages_of(response)
    assert level == "error" and "HTTP 503" in text and "were not deleted either" in text
    assert HOSTILE in text and "<script>alert" not in response.content.decode()
    assert set(KollusMedia.objects.values_list("state", flat=True)) == {MediaState.TRANSCODING}
    assert all(m.upload_file_key in kollus.state.media for m in media)
