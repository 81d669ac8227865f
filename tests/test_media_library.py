"""The "Kollus videos" admin area: listing, filters, permissions on every view, usage,
metadata edits pushed to Kollus, refresh, delete (refused while used), and the callback URLs
panel. Views that reach Kollus do so over real HTTP to the sandbox.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_q.models import OrmQ

from tests.factories import page_using
from tests.media_support import make_user, sandbox_stage
from wagtail_kollus import signals
from wagtail_kollus.media import tasks
from wagtail_kollus.models import KollusMedia, KollusVideo, MediaState
from wagtail_kollus.testing import upload_to_sandbox, wait_for

TOKEN = "test-callback-token-0123456789"


@pytest.fixture
def media(db) -> KollusMedia:
    return KollusMedia.objects.create(
        title="Welcome tour",
        upload_file_key="ufk-welcome",
        state=MediaState.READY,
        category_key="cat-1",
        category_name="Lessons",
        duration_seconds=125,
        poster_url="http://posters.example/welcome.jpg",
        media_content_key="mck-welcome",
        channels=[{"channel_key": "ch", "media_content_key": "mck-welcome"}],
    )


# --- listing -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_listing_shows_poster_title_category_duration_state_and_date(admin_client, media):
    KollusMedia.objects.create(title="Gone", state=MediaState.DELETED)
    response = admin_client.get(reverse("kollus_media:index"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Welcome tour" in html
    assert "http://posters.example/welcome.jpg" in html
    assert "Lessons" in html
    assert "2:05" in html
    assert "Ready" in html
    assert "Gone" not in html  # deleted rows stay for pages, not in the list


@pytest.mark.django_db
def test_the_library_links_the_callback_log_whose_empty_state_says_why_it_is_empty(
    admin_client, media
):
    log = reverse("wagtail_kollus_callbacks:index")
    assert f'href="{log}"' in admin_client.get(reverse("kollus_media:index")).content.decode()
    empty = admin_client.get(log).content.decode()
    assert "No callback has arrived yet" in empty and "No callback matches." not in empty
    filtered = admin_client.get(log, {"status": "failed"}).content.decode()
    assert "No callback matches." in filtered and "No callback has arrived yet" not in filtered


@pytest.mark.django_db
def test_search_filters_sorting_and_pagination(admin_client, media):
    for i in range(25):
        KollusMedia.objects.create(title=f"Clip {i:02d}", state=MediaState.TRANSCODING)
    url = reverse("kollus_media:index")

    searched = admin_client.get(url, {"q": "welcome"}).content.decode()
    assert "Welcome tour" in searched and "Clip 01" not in searched

    by_state = admin_client.get(url, {"state": "ready"}).content.decode()
    assert "Welcome tour" in by_state and "Clip 01" not in by_state

    by_category = admin_client.get(url, {"category_key": "cat-1"}).content.decode()
    assert "Welcome tour" in by_category and "Clip 03" not in by_category

    page_two = admin_client.get(url, {"p": 2, "ordering": "title"}).content.decode()
    assert "Welcome tour" in page_two  # last by title → second page of 20
    assert "Clip 00" not in page_two


@pytest.mark.django_db
def test_stuck_filter_lists_old_silent_uploads(admin_client, settings):
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "STUCK_AFTER_MINUTES": 30}
    old = timezone.now() - timedelta(hours=2)
    stuck = KollusMedia.objects.create(title="Silent upload", state=MediaState.UPLOADING)
    heard = KollusMedia.objects.create(
        title="Heard recently", state=MediaState.TRANSCODING, last_callback_at=timezone.now()
    )
    KollusMedia.objects.filter(pk__in=[stuck.pk, heard.pk]).update(created_at=old)
    KollusMedia.objects.create(title="Fresh upload", state=MediaState.UPLOADING)

    html = admin_client.get(reverse("kollus_media:index"), {"stuck": "true"}).content.decode()
    assert "Silent upload" in html
    assert "Heard recently" not in html and "Fresh upload" not in html


# --- permissions on every view ---------------------------------------------------------------


def library_urls(media: KollusMedia) -> list[tuple[str, str, str]]:
    """(method, url, permission codename that opens it)."""
    pk = media.pk
    return [
        # The listing opens with any of view/add/change/delete (Wagtail's rule).
        ("get", reverse("kollus_media:index"), "view_kollusmedia"),
        ("get", reverse("kollus_media:add"), "add_kollusmedia"),
        ("get", reverse("kollus_media:upload_modal"), "add_kollusmedia"),
        ("get", reverse("kollus_media:edit", args=(pk,)), "change_kollusmedia"),
        ("get", reverse("kollus_media:usage", args=(pk,)), "change_kollusmedia"),
        ("get", reverse("kollus_media:replace", args=(pk,)), "change_kollusmedia"),
        ("post", reverse("kollus_media:refresh", args=(pk,)), "change_kollusmedia"),
        ("post", reverse("kollus_media:refresh_stuck"), "change_kollusmedia"),
        ("get", reverse("kollus_media:delete", args=(pk,)), "delete_kollusmedia"),
        ("post", reverse("kollus_media:upload_ticket"), "add_kollusmedia"),
        ("post", reverse("kollus_media:upload_complete", args=(pk,)), "add_kollusmedia"),
        ("post", reverse("kollus_media:upload_abort", args=(pk,)), "add_kollusmedia"),
    ]


@pytest.mark.django_db
def test_every_library_view_refuses_users_without_the_permission(client, django_user_model, media):
    # An admin user with every *other* Kollus media permission must still be refused.
    all_codenames = {"view_kollusmedia", "add_kollusmedia", "change_kollusmedia", "delete_kollusmedia"}
    for method, url, codename in library_urls(media):
        name = f"u{abs(hash(url)) % 10**8}"
        others = set() if codename == "view_kollusmedia" else all_codenames - {codename, "view_kollusmedia"}
        user = make_user(django_user_model, name, *others)
        client.force_login(user)
        response = getattr(client, method)(url)
        assert response.status_code in (302, 403), (url, response.status_code)
        if response.status_code == 302:
            assert "/admin/" in response["Location"] and url not in response["Location"]
    assert KollusMedia.objects.get(pk=media.pk).state == MediaState.READY


@pytest.mark.django_db
def test_anonymous_users_are_sent_to_the_login(client, media):
    for method, url, _codename in library_urls(media):
        response = getattr(client, method)(url)
        assert response.status_code == 302 and "/login/" in response["Location"], url


@pytest.mark.django_db
def test_each_library_view_opens_with_its_permission(client, django_user_model, media, kollus):
    for method, url, codename in library_urls(media):
        if "upload" in url and method == "post":
            continue  # the upload endpoints are exercised in test_media_upload.py
        user = make_user(django_user_model, f"ok{abs(hash(url)) % 10**8}", codename, "view_kollusmedia")
        client.force_login(user)
        response = getattr(client, method)(url)
        assert response.status_code in (200, 302), (url, response.status_code)


# --- callback URLs panel -----------------------------------------------------------------------


@pytest.mark.django_db
def test_callback_urls_with_token_are_shown_to_superusers_only(client, admin_client, django_user_model, media):
    html = admin_client.get(reverse("kollus_media:index"), HTTP_HOST="cms.example.org").content.decode()
    assert f"http://cms.example.org/kollus/callbacks/transcoding/{TOKEN}/" in html
    assert f"http://cms.example.org/kollus/callbacks/channel-delete/{TOKEN}/" in html

    editor = make_user(django_user_model, "editor", "view_kollusmedia", "change_kollusmedia")
    client.force_login(editor)
    html = client.get(reverse("kollus_media:index")).content.decode()
    assert TOKEN not in html


# --- edit, refresh --------------------------------------------------------------------------------


def queued_tasks() -> list[str]:
    return [q.func() for q in OrmQ.objects.all()]


@pytest.mark.django_db
def test_editing_the_title_pushes_it_to_kollus(admin_client, kollus):
    ufk = upload_to_sandbox("Before edit")
    wait_for(lambda: sandbox_stage(kollus, ufk) == "completed")
    row = KollusMedia.objects.create(title="Before edit", upload_file_key=ufk, state=MediaState.READY)

    response = admin_client.post(
        reverse("kollus_media:edit", args=(row.pk,)),
        {"title": "After edit", "category_key": ""},
    )
    assert response.status_code == 302
    assert queued_tasks() == ["wagtail_kollus.media.tasks.push_metadata"]  # not sent in the request
    assert kollus.state.media[ufk]["title"] == "Before edit"

    tasks.push_metadata(row.pk)  # what the worker runs
    assert kollus.state.media[ufk]["title"] == "After edit"


@pytest.mark.django_db
def test_a_refused_metadata_push_is_recorded_on_the_row(kollus):
    ufk = upload_to_sandbox("Refused")
    wait_for(lambda: sandbox_stage(kollus, ufk) == "completed")
    row = KollusMedia.objects.create(title="Edited", upload_file_key=ufk, state=MediaState.READY)
    kollus.faults.set("kollus.media_update", status=422, times=5)
    assert tasks.push_metadata(row.pk) == "failed"
    row.refresh_from_db()
    assert row.title == "Edited" and "did not accept" in row.error_message
    assert kollus.state.media[ufk]["title"] == "Refused"


@pytest.mark.django_db
def test_saving_without_changes_does_not_call_kollus(admin_client, media):
    admin_client.post(
        reverse("kollus_media:edit", args=(media.pk,)),
        {"title": media.title, "category_key": media.category_key},
    )
    assert queued_tasks() == []


@pytest.mark.django_db
def test_refresh_reads_the_media_again(admin_client, kollus):
    ufk = upload_to_sandbox("Refresh me")
    wait_for(lambda: sandbox_stage(kollus, ufk) == "completed")
    row = KollusMedia.objects.create(title="Refresh me", upload_file_key=ufk, state=MediaState.TRANSCODING)
    response = admin_client.post(reverse("kollus_media:refresh", args=(row.pk,)), follow=True)
    assert response.status_code == 200
    assert queued_tasks() == []  # read in the request, so a failure can be shown
    assert "&#x27;Refresh me&#x27; was refreshed from Kollus." in response.content.decode()
    row.refresh_from_db()
    assert row.state == MediaState.READY


def refresh_messages(response) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in response.context["messages"]]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "fault, reason",
    [
        ({"status": 503}, "HTTP 503."),
        ({"status": 401}, "HTTP 401."),
        ({"body": "malformed_json"}, "malformed JSON"),
    ],
)
def test_a_failed_refresh_is_an_error_message_and_leaves_the_row(admin_client, kollus, fault, reason):
    ufk = upload_to_sandbox("Refresh broken")
    wait_for(lambda: sandbox_stage(kollus, ufk) == "completed")
    row = KollusMedia.objects.create(
        title="Refresh broken", upload_file_key=ufk, state=MediaState.TRANSCODING
    )
    before = KollusMedia.objects.filter(pk=row.pk).values().get()
    kollus.faults.set("kollus.media_detail", times=20, **fault)

    response = admin_client.post(reverse("kollus_media:refresh", args=(row.pk,)), follow=True)

    assert response.status_code == 200
    [(level, text)] = refresh_messages(response)
    assert level == "error"
    assert text.startswith("'Refresh broken' could not be refreshed from Kollus: ")
    assert reason in text
    assert "{" not in text and "'error'" not in text  # a sentence, not a dict
    assert kollus.kollus_settings()["KOLLUS_ACCESS_TOKEN"] not in response.content.decode()
    assert KollusMedia.objects.filter(pk=row.pk).values().get() == before
    assert queued_tasks() == []


@pytest.mark.django_db
def test_bulk_refresh_stops_on_an_api_error_and_queues_nothing(admin_client, kollus, settings):
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "STUCK_AFTER_MINUTES": 1}
    old = timezone.now() - timedelta(hours=1)
    for title in ("Stuck one", "Stuck two"):
        KollusMedia.objects.create(title=title, upload_file_key=f"ufk-{title[-3:]}", state=MediaState.UPLOADING)
    KollusMedia.objects.update(created_at=old)
    before = list(KollusMedia.objects.order_by("pk").values())
    kollus.faults.set("kollus.media_detail", status=503, times=20)

    response = admin_client.post(reverse("kollus_media:refresh_stuck"), follow=True)

    messages_shown = refresh_messages(response)
    assert [level for level, _ in messages_shown] == ["error", "warning"]
    assert "could not be refreshed from Kollus" in messages_shown[0][1]
    assert messages_shown[0][1].count("HTTP 503") == 1
    assert messages_shown[1][1] == "The other stuck videos were not refreshed."
    assert queued_tasks() == []
    assert list(KollusMedia.objects.order_by("pk").values()) == before


@pytest.mark.django_db
def test_bulk_refresh_reads_the_first_and_queues_the_rest(admin_client, kollus, settings):
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "STUCK_AFTER_MINUTES": 1}
    ufks = [upload_to_sandbox(f"Stuck {n}") for n in (1, 2)]
    for ufk in ufks:
        wait_for(lambda ufk=ufk: sandbox_stage(kollus, ufk) == "completed")
        KollusMedia.objects.create(title=ufk, upload_file_key=ufk, state=MediaState.TRANSCODING)
    KollusMedia.objects.update(created_at=timezone.now() - timedelta(hours=1))

    response = admin_client.post(reverse("kollus_media:refresh_stuck"), follow=True)

    assert refresh_messages(response) == [
        ("success", "2 stuck videos will be refreshed from Kollus.")
    ]
    assert queued_tasks() == ["wagtail_kollus.media.tasks.refresh_media"]
    states = sorted(KollusMedia.objects.values_list("state", flat=True))
    assert states == sorted([MediaState.READY, MediaState.TRANSCODING])


# --- usage and delete ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_usage_lists_pages_using_the_video(admin_client, media):
    page_using(media)
    html = admin_client.get(reverse("kollus_media:usage", args=(media.pk,))).content.decode()
    assert "Uses the video" in html


@pytest.mark.django_db
def test_delete_is_refused_while_used_without_the_permission(client, django_user_model, media):
    page_using(media)
    user = make_user(django_user_model, "deleter", "delete_kollusmedia", "view_kollusmedia")
    client.force_login(user)
    url = reverse("kollus_media:delete", args=(media.pk,))
    html = client.get(url).content.decode()
    assert "cannot be deleted" in html
    response = client.post(url, {"confirm": "on"})
    assert response.status_code == 403
    assert KollusMedia.objects.get(pk=media.pk).state == MediaState.READY


@pytest.mark.django_db
def test_delete_while_used_needs_confirmation_then_pages_get_the_placeholder(
    client, django_user_model, kollus
):
    ufk = upload_to_sandbox("Used")
    wait_for(lambda: sandbox_stage(kollus, ufk) == "completed")
    media = KollusMedia.objects.create(
        title="Used", upload_file_key=ufk, state=MediaState.READY, media_content_key="mck-used"
    )
    page_using(media)
    user = make_user(
        django_user_model, "boss", "delete_kollusmedia", "delete_used_kollusmedia", "view_kollusmedia"
    )
    client.force_login(user)
    url = reverse("kollus_media:delete", args=(media.pk,))

    unconfirmed = client.post(url, {})
    assert unconfirmed.status_code == 200
    assert ufk in kollus.state.media

    confirmed = client.post(url, {"confirm": "on"})
    assert confirmed.status_code == 302
    media.refresh_from_db()
    assert media.state == MediaState.DELETED
    assert ufk not in kollus.state.media
    video = KollusVideo.objects.get(media=media)
    assert video.is_playable is False


@pytest.mark.django_db
def test_delete_unused_video(admin_client, kollus, django_capture_on_commit_callbacks):
    ufk = upload_to_sandbox("Unused")
    wait_for(lambda: sandbox_stage(kollus, ufk) == "completed")
    media = KollusMedia.objects.create(title="Unused", upload_file_key=ufk, state=MediaState.READY)
    deleted = []
    signals.video_deleted.connect(receiver := lambda sender, instance, **kw: deleted.append(instance.pk))
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = admin_client.post(reverse("kollus_media:delete", args=(media.pk,)))
    finally:
        signals.video_deleted.disconnect(receiver)
    assert response.status_code == 302
    assert KollusMedia.objects.get(pk=media.pk).state == MediaState.DELETED
    assert ufk not in kollus.state.media
    assert deleted == [media.pk]
    # Gone from the listing, and a second delete finds nothing.
    first = admin_client.get(reverse("kollus_media:index")).content.decode()
    assert "Video &#x27;Unused&#x27; deleted." in first  # the message, once
    assert "Unused" not in admin_client.get(reverse("kollus_media:index")).content.decode()
    assert admin_client.get(reverse("kollus_media:delete", args=(media.pk,))).status_code == 404


@pytest.mark.django_db
def test_delete_failure_on_kollus_is_a_message_not_a_500(admin_client, kollus):
    ufk = upload_to_sandbox("Stays")
    wait_for(lambda: sandbox_stage(kollus, ufk) == "completed")
    media = KollusMedia.objects.create(title="Stays", upload_file_key=ufk, state=MediaState.READY)
    kollus.faults.set("kollus.media_delete", status=503, times=10)
    response = admin_client.post(reverse("kollus_media:delete", args=(media.pk,)))
    assert response.status_code == 502
    assert "did not delete" in response.content.decode()
    assert KollusMedia.objects.get(pk=media.pk).state == MediaState.READY


@pytest.mark.django_db
def test_without_a_token_the_panel_shows_a_placeholder_and_a_warning(admin_client, settings, media):
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "CALLBACK_TOKEN": ""}
    html = admin_client.get(reverse("kollus_media:index")).content.decode()
    assert "/kollus/callbacks/upload/%3CCALLBACK_TOKEN%3E/" in html
    assert "Set CALLBACK_TOKEN first" in html
