"""The URL walk: every URL the plugin adds is classified, and each class keeps its promise.

The plugin's URLs are found by walking Django's resolver (``security_support.plugin_url_entries``),
so a URL added tomorrow fails :func:`test_every_plugin_url_is_classified` until someone says
in ``security_support.ADMIN_URLS`` or ``PUBLIC_URLS`` who may open it; then the checks below run for it automatically.

Wagtail's conventions, which the admin checks follow precisely:
- anonymous → 302 to the admin login with ``?next=`` (``wagtail.admin.auth.reject_request``);
  an XHR gets 403 instead.
- logged in without ``wagtailadmin.access_admin`` → 302 to the login as well, with the message
  "You do not have permission to access the admin."
- an admin user whose view raises ``PermissionDenied`` → 302 to the dashboard with the error
  message "Sorry, you do not have permission to access this area."
  (``wagtail.admin.auth.permission_denied``); an XHR gets 403. Views may also answer 403
  themselves (the statistics screens do, on purpose: see ``wagtail_kollus/stats/views.py``).
"""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.messages import get_messages
from django.urls import reverse
from wagtail.models import GroupPagePermission, Page

from wagtail_kollus.models import CallbackDelivery, KollusMedia, KollusVideo, MediaState
from wagtail_kollus.playback import Playable, sign_reference

from .factories import make_progress
from .security_support import (
    ADMIN_URLS,
    PUBLIC_URLS,
    concrete_url,
    entries_by_name,
    sandbox_choice,
)

PERMISSION_DENIED_MESSAGE = "Sorry, you do not have permission to access this area."


def test_every_plugin_url_is_classified():
    found = entries_by_name()
    known = set(ADMIN_URLS) | set(PUBLIC_URLS)
    unknown = sorted(set(found) - known)
    assert not unknown, (
        f"New plugin URL(s) {unknown}: classify them in ADMIN_URLS or PUBLIC_URLS of "
        "tests/security_support.py so that the security walk checks them."
    )
    stale = sorted(known - set(found))
    assert not stale, f"Classified URL(s) no longer exist: {stale}; update tests/security_support.py."
    for name, entry in found.items():
        assert entry.is_admin == (name in ADMIN_URLS), (name, entry.route)


def test_the_walk_finds_urls_behind_stock_wagtail_views():
    # The walk must not depend on every view living in wagtail_kollus: a viewset may use
    # Wagtail's own view class. Every URL of the plugin's namespaces is included.
    found = entries_by_name()
    assert {
        "kollus_media:index",
        "kollus_video_chooser:chosen",
        "wagtail_kollus:player_token",
    } <= set(found)
    assert all(not name.startswith("wagtailadmin") for name in found)


# --- objects that fill the URL parameters ------------------------------------------------------


@pytest.fixture
def kollus(sandbox, settings):
    settings.WAGTAIL_KOLLUS = sandbox.kollus_settings(
        KOLLUS_RATE_LIMIT_PER_SECOND=1000, KOLLUS_RATE_LIMIT_PER_MINUTE=60000
    )
    return sandbox


@pytest.fixture
def objects(kollus, db):
    with kollus.state.lock:
        ufk, remote = next(
            (k, m) for k, m in kollus.state.media.items() if m["stage"] == "completed"
        )
    media = KollusMedia.objects.create(
        title=remote["title"],
        upload_file_key=ufk,
        state=MediaState.READY,
        media_content_key=remote["channels"][0]["media_content_key"],
        channels=remote["channels"],
    )
    home = Page.objects.get(depth=2)
    from wagtail_kollus.models import PageContentLink

    PageContentLink.objects.create(page=home, page_key=home.pk, page_type="testapp.videopage")
    content_id, item_id = sandbox_choice(kollus)
    failed = CallbackDelivery.objects.create(
        kind="upload",
        fingerprint="f" * 64,
        upload_file_key=ufk,
        payload={"upload_file_key": ufk},
        status="failed",
    )
    video = KollusVideo.objects.create(title="Chosen", media_content_key="mck-chosen")
    # A row for the refused plays report, so that its sweep renders a listing, not "none yet".
    from wagtail_kollus.models import RefusedPlay

    RefusedPlay.objects.create(
        page=home,
        cuid="anon-walk",
        media_content_key="mck-chosen",
        kind=1,
        reason="login_required",
        message="Log in to watch this video.",
    )
    learner = get_user_model().objects.create_user("learner", "learner@example.com", "pw")
    make_progress(learner, home, "mck-chosen", percent=40)
    return {
        "user_id": learner.pk,
        "video_id": video.pk,
        "pk": media.pk,
        "delivery_id": failed.pk,
        "upload_file_key": ufk,
        "page_id": home.pk,
        "content_id": content_id,
        "chooser_pk": f"{content_id}-{item_id}",
    }


def make_user(django_user_model, name: str, *codenames: str, admin: bool = True, page=None):
    user = django_user_model.objects.create_user(name, f"{name}@example.com", "pw")
    group = Group.objects.create(name=f"{name}-group")
    if admin:
        group.permissions.add(Permission.objects.get(codename="access_admin"))
    for codename in codenames:
        if codename.startswith("page:"):
            GroupPagePermission.objects.create(
                group=group,
                page=page or Page.get_first_root_node(),
                permission=Permission.objects.get(codename=codename.split(":", 1)[1]),
            )
        else:
            group.permissions.add(
                Permission.objects.get(
                    content_type__app_label__in=("wagtail_kollus",), codename=codename
                )
            )
    user.groups.add(group)
    return user


def call(client, method: str, url: str, data: dict | None = None, **extra):
    return getattr(client, method)(url, data or {}, **extra)


def assert_sent_to_login(response, url: str) -> None:
    assert response.status_code == 302, (url, response.status_code)
    login = reverse("wagtailadmin_login")
    assert response["Location"].startswith(login + "?next="), (url, response["Location"])


def assert_refused(response, url: str) -> None:
    """Wagtail's refusal: a 403, or the redirect to the dashboard with the permission message."""
    if response.status_code == 403:
        return
    assert response.status_code == 302, f"{url}: expected a refusal, got {response.status_code}"
    assert response["Location"] == reverse("wagtailadmin_home"), (url, response["Location"])
    messages = [str(m).strip() for m in get_messages(response.wsgi_request)]
    assert PERMISSION_DENIED_MESSAGE in messages, (url, messages)


def is_refusal(response) -> bool:
    if response.status_code in (401, 403):
        return True
    if response.status_code == 302:
        location = response["Location"]
        return location == reverse("wagtailadmin_home") or location.startswith(
            reverse("wagtailadmin_login")
        )
    return False


# --- admin URLs ----------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(ADMIN_URLS))
def test_admin_url_refuses_anonymous_and_non_admin_users(name, client, objects, django_user_model):
    rule = ADMIN_URLS[name]
    url = concrete_url(name, objects)
    assert_sent_to_login(call(client, rule.method, url, rule.data), url)
    # An XHR (the upload page, the sync panel) gets a plain 403, not a login page.
    xhr = call(client, rule.method, url, rule.data, HTTP_X_REQUESTED_WITH="XMLHttpRequest")
    assert xhr.status_code == 403, (url, xhr.status_code)
    # Logged in but not an admin user, even with the plugin's permissions.
    codenames = [c for c in (rule.opens_with or ()) if not c.startswith("page:")]
    client.force_login(make_user(django_user_model, "outsider", *codenames, admin=False))
    assert_sent_to_login(call(client, rule.method, url, rule.data), url)
    assert KollusMedia.objects.filter(state=MediaState.READY).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(ADMIN_URLS))
def test_admin_url_needs_the_plugin_permission(name, client, objects, django_user_model):
    rule = ADMIN_URLS[name]
    url = concrete_url(name, objects)
    # An admin user with no plugin permission and no page permission.
    client.force_login(make_user(django_user_model, "plain", admin=True))
    response = call(client, rule.method, url, rule.data)
    if rule.opens_with is None:
        assert not is_refusal(response) and response.status_code < 500, (url, response.status_code)
    else:
        assert_refused(response, url)
        xhr = call(client, rule.method, url, rule.data, HTTP_X_REQUESTED_WITH="XMLHttpRequest")
        assert xhr.status_code == 403, (url, xhr.status_code)
        # ... and nothing changed.
        media = KollusMedia.objects.get(pk=objects["pk"])
        assert media.state == MediaState.READY
        assert KollusMedia.objects.count() == 1
        # With the permission, the same request is not refused (so the check above can fail).
        client.force_login(make_user(django_user_model, "allowed", *rule.opens_with))
        response = call(client, rule.method, url, rule.data)
        assert not is_refusal(response), (url, response.status_code)
        assert response.status_code < 500, (url, response.status_code)
        # The callback token is for superusers only, whatever else a user may open.
        assert TOKEN not in response.content.decode("utf-8", "replace"), url


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(ADMIN_URLS))
def test_admin_url_works_for_a_superuser(name, client, objects, django_user_model):
    rule = ADMIN_URLS[name]
    url = concrete_url(name, objects)
    client.force_login(django_user_model.objects.create_superuser("root", "root@example.com", "pw"))
    for method in rule.superuser_methods:
        response = call(client, method, url, rule.data)
        assert response.status_code < 500, (url, method, response.status_code)
        assert not is_refusal(response), (url, method, response.status_code)


UPLOAD_URLS = sorted(name for name, rule in ADMIN_URLS.items() if rule.others_need is not None)


@pytest.mark.django_db
@pytest.mark.parametrize("name", UPLOAD_URLS)
def test_upload_url_opens_for_the_uploader_not_for_another_editor_who_may_only_add(
    name, client, objects, django_user_model
):
    """"add" lets an editor upload and use their own video; it must not read (title, state)
    or take over (a library video of it, its end) somebody else's upload by its id."""
    from wagtail_kollus.models import KollusVideo

    rule = ADMIN_URLS[name]
    uploader = make_user(django_user_model, "uploader", "add_kollusmedia")
    media = KollusMedia.objects.get(pk=objects["pk"])
    media.uploaded_by = uploader
    media.save()
    url = concrete_url(name, objects)

    client.force_login(make_user(django_user_model, "adder", "add_kollusmedia"))
    response = call(client, rule.method, url, rule.data)
    assert response.status_code == 404 or is_refusal(response), (url, response.status_code)
    assert media.title not in response.content.decode("utf-8", "replace")
    # (The walk's objects include a chosen video of their own, for the preview URL.)
    made = KollusVideo.objects.filter(media=media).exists()
    assert not made, "a library video was made of another's upload"
    assert KollusMedia.objects.get(pk=media.pk).state == MediaState.READY

    for user in (
        uploader,
        make_user(django_user_model, "entitled", "add_kollusmedia", *rule.others_need[:1]),
    ):
        client.force_login(user)
        response = call(client, rule.method, url, rule.data)
        assert response.status_code < 400, (url, user.username, response.status_code)


# --- public URLs ---------------------------------------------------------------------------------

TOKEN = "test-callback-token-0123456789"  # tests/settings.py and the sandbox fixture


def callback_form(sandbox, **fields: str) -> dict[str, str]:
    return {
        "content_provider_key": sandbox.keys.service_account_key,
        "upload_file_key": "ufk-walk",
        "transcoding_result": "success",
        "channel_key": "sandbox-channel",
        **fields,
    }


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(n for n, kind in PUBLIC_URLS.items() if kind == "callback"))
def test_callback_url_needs_the_token_and_our_account(name, client, kollus, django_user_model):
    good = reverse(name, kwargs={"token": TOKEN})
    wrong = reverse(name, kwargs={"token": TOKEN[:-1] + "X"})
    # Only POST; GET never reveals anything.
    assert client.get(good).status_code == 405
    # A wrong token → 403, whoever asks (a superuser's session does not help).
    client.force_login(django_user_model.objects.create_superuser("root", "r@example.com", "pw"))
    assert client.post(wrong, callback_form(kollus)).status_code == 403
    client.logout()
    assert client.post(wrong, callback_form(kollus)).status_code == 403
    # The right token with another account's key → 403.
    other = callback_form(kollus, content_provider_key="someone-else")
    assert client.post(good, other).status_code == 403
    assert client.post(good, callback_form(kollus, content_provider_key="")).status_code == 403
    assert CallbackDelivery.objects.count() == 0, "a refused callback was recorded"
    # Both right → accepted (so the refusals above are not a broken endpoint).
    response = client.post(good, callback_form(kollus))
    assert response.status_code == 200
    assert CallbackDelivery.objects.count() == 1


@pytest.mark.django_db
def test_callbacks_refuse_everything_when_no_token_is_configured(client, kollus, settings):
    settings.WAGTAIL_KOLLUS = kollus.kollus_settings(CALLBACK_TOKEN="")
    for name, kind in PUBLIC_URLS.items():
        if kind != "callback":
            continue
        for token in ("", "x", "None"):
            if not token:
                continue
            url = reverse(name, kwargs={"token": token})
            assert client.post(url, callback_form(kollus)).status_code == 403, url
    assert CallbackDelivery.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name", sorted(n for n, kind in PUBLIC_URLS.items() if kind == "play_callback")
)
def test_play_callback_needs_the_token_and_signs_nothing_for_strangers(
    name, client, kollus, django_user_model, settings
):
    from wagtail_kollus.models import ApprovedPlay

    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "PLAYBACK_MAX_STREAMS": 2}
    form = {"kind": "1", "client_user_id": "user-x", "media_content_key": "k", "hardware_id": "d"}
    good = reverse(name, kwargs={"token": TOKEN})
    wrong = reverse(name, kwargs={"token": TOKEN[:-1] + "X"})
    assert client.get(good).status_code == 405
    client.force_login(django_user_model.objects.create_superuser("root", "r@example.com", "pw"))
    for url in (wrong, reverse(name, kwargs={"token": "None"})):
        response = client.post(url, form)
        assert response.status_code == 403 and response.content == b"", url
    client.logout()
    # The right token without a play context: a signed refusal, nothing recorded.
    response = client.post(good, form)
    assert response.status_code == 200 and response["X-KOLLUS-USERKEY"]
    assert ApprovedPlay.objects.count() == 0
    settings.WAGTAIL_KOLLUS = kollus.kollus_settings(CALLBACK_TOKEN="")
    assert client.post(reverse(name, kwargs={"token": "x"}), form).status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name", sorted(n for n, kind in PUBLIC_URLS.items() if kind == "lms_callback")
)
def test_lms_callback_needs_the_token_and_forged_replayed_or_malformed_reports_change_nothing(
    name, client, kollus, django_user_model, settings
):
    import time

    from django.test import TestCase
    from wagtail.models import Page

    from wagtail_kollus.models import LearnerProgress
    from wagtail_kollus.playback.viewer import Viewer, sign_play_context, user_viewer_id
    from wagtail_kollus.progress.lms import build_json_data

    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "PROGRESS_TRACKING": True}
    learner = django_user_model.objects.create_user("learner", "l@example.com", "pw")
    page = Page.objects.get(depth=2)
    viewer = Viewer(cuid=user_viewer_id(learner.pk), user_id=learner.pk)

    def form(context, *, end=60, at=None, key="k", cuid=viewer.cuid):
        return {
            "json_data": build_json_data(
                cuid=cuid, media_content_key=key, uservalues={"uservalue9": context},
                duration=600, position=end, watched_blocks=set(range(end // 6)), block_count=100,
                start_at=0, play_time=end, reported_at=at or int(time.time()), player_id="p",
            )
        }

    good = reverse(name, kwargs={"token": TOKEN})
    wrong = reverse(name, kwargs={"token": TOKEN[:-1] + "X"})
    signed = sign_play_context(viewer, page.pk, "k")
    assert client.get(good).status_code == 405
    client.force_login(django_user_model.objects.create_superuser("root", "r@example.com", "pw"))
    for url in (wrong, reverse(name, kwargs={"token": "None"})):
        response = client.post(url, form(signed))
        assert response.status_code == 403 and response.content == b"", url
    client.logout()
    forged = [
        form("x" + signed[1:]),  # altered signature
        form(sign_play_context(viewer, page.pk, "other-key")),  # another video's context
        form(signed, key="other-key"),
        form(signed, cuid="user-someone-else"),
        form(sign_play_context(Viewer(cuid="anon-1"), page.pk, "k"), cuid="anon-1"),
        {"json_data": "{not json"},
        {"json_data": json.dumps({"user_info": [], "content_info": None})},
        {"json_data": "x" * 100_000},
        {},
    ]
    for data in forged:
        assert client.post(good, data).status_code == 200
    assert not LearnerProgress.objects.exists()
    # A genuine report is recorded; the same report replayed, or an older one, changes nothing.
    now = int(time.time())
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert client.post(good, form(signed, end=120, at=now)).content == b"recorded"
    recorded = LearnerProgress.objects.values().get()
    for replay in (form(signed, end=120, at=now), form(signed, end=30, at=now - 100)):
        client.post(good, replay)
        assert LearnerProgress.objects.values().get() == recorded
    settings.WAGTAIL_KOLLUS = kollus.kollus_settings(CALLBACK_TOKEN="")
    assert client.post(reverse(name, kwargs={"token": "x"}), form(signed)).status_code == 403


@pytest.mark.django_db
def test_unknown_callback_urls_answer_404_to_everyone_and_record_nothing(
    client, kollus, django_user_model
):
    (name,) = [n for n, kind in PUBLIC_URLS.items() if kind == "callback_unknown"]
    base = reverse(name)
    assert base.endswith("/callbacks/")
    for session in ("anonymous", "superuser"):
        if session == "superuser":
            client.force_login(django_user_model.objects.create_superuser("root", "r@x.com", "pw"))
        for path in (f"upload2/{TOKEN}/", f"{TOKEN}/", f"upload/{TOKEN}/x/", ""):
            for method in ("get", "post", "put", "delete"):
                response = getattr(client, method)(base + path, callback_form(kollus))
                assert response.status_code == 404, (session, path, method)
    assert CallbackDelivery.objects.count() == 0


@pytest.mark.django_db
def test_player_token_endpoint_is_public_but_refuses_tampered_references(client, kollus):
    url = reverse("wagtail_kollus:player_token")
    reference = sign_reference(Playable(media_content_key="mck-walk", title="Walk"))
    # Anonymous visitors may ask (public by design) ...
    response = client.get(url, {"reference": reference})
    assert response.status_code == 200, response.content
    assert "no-store" in response["Cache-Control"]
    assert response.json()["url"].startswith(kollus.player_url)
    # ... but only for a reference this site signed.
    assert client.get(url).status_code == 400
    value, _, signature = reference.rpartition(":")
    tampered = [
        reference[:-1] + ("A" if reference[-1] != "A" else "B"),
        value + ":" + signature[::-1],
        reference.replace(reference[1], "Z", 1) if reference[1] != "Z" else "Y" + reference[1:],
        "x" * 5000,
        "<script>alert(1)</script>",
    ]
    for bad in tampered:
        for method in ("get", "post"):
            response = getattr(client, method)(url, {"reference": bad})
            assert 400 <= response.status_code < 500, (bad[:40], method, response.status_code)
            assert "url" not in response.json()
    # Only GET and POST.
    assert client.put(url, {"reference": reference}).status_code == 405
    assert client.delete(url).status_code == 405
