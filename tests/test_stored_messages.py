"""Messages stored for editors are shown in the reader's language, not the worker's (issue 13).

The django-q2 worker runs in ``settings.LANGUAGE_CODE`` ("ko" here, as in the demo). What it
stores for editors — why a callback delivery failed, why a video's edit did not reach Kollus,
why a page's sync failed — is written by the real code paths against the sandbox, then read
through the real admin screens by an editor whose admin language is English, and by one whose
is Korean. Rows written before the messages were stored (text only) show their text.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape

from tests.factories import deliver, editor_speaking, make_course, publish
from tests.sync_support import SYNC_TEST_SETTINGS, link_of, synced_link
from wagtail_kollus.accounts import contents_client
from wagtail_kollus.media import tasks
from wagtail_kollus.messages import Message, columns, shown
from wagtail_kollus.models import (
    CallbackDelivery,
    DeliveryStatus,
    KollusMedia,
    MediaState,
    PageContentLink,
)
from wagtail_kollus.sync.engine import sync_page
from wagtail_kollus.testing import running_cluster, wait_for

HANGUL = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3]")

TAKEN_OVER = (
    "Gave up after %(count)d attempt: the worker processing this callback stopped (killed, "
    "out of memory or restarted).",
    "Gave up after %(count)d attempts: the worker processing this callback stopped each time "
    "(killed, out of memory or restarted).",
)
NOT_ACCEPTED = "Kollus did not accept the new title/category: %(reason)s"
CONFLICT = (
    "The content record was edited outside Wagtail (%(fields)s). Conflict policy is 'fail': "
    "resolve it remotely or change WAGTAIL_KOLLUS['SYNC_CONFLICT_POLICY']."
)
WORKER_STOPPED = (
    "The worker pushing this page stopped before it finished (killed, out of memory or restarted)."
)


@pytest.fixture
def korean_site(sandbox, settings):
    settings.LANGUAGE_CODE = "ko"
    settings.WAGTAIL_KOLLUS = sandbox.kollus_settings(
        KOLLUS_RATE_LIMIT_PER_SECOND=1000,
        KOLLUS_RATE_LIMIT_PER_MINUTE=60000,
        MAX_RETRIES=0,
        CALLBACK_RETRY_DELAYS=[0, 0],
        **SYNC_TEST_SETTINGS,
    )
    return sandbox


def in_the_worker():
    """The language a django-q2 worker runs in: nothing activated it, so LANGUAGE_CODE."""
    return translation.override(settings.LANGUAGE_CODE)


def editor(django_user_model, language: str) -> Client:
    """A logged-in admin client of an editor whose admin language is ``language``."""
    return editor_speaking(Client(), django_user_model, language)


@pytest.fixture
def english_editor(django_user_model) -> Client:
    return editor(django_user_model, "en")


@pytest.fixture
def korean_editor(django_user_model) -> Client:
    return editor(django_user_model, "ko")


def korean(msgid: str, **params) -> str:
    with translation.override("ko"):
        text = translation.gettext(msgid) % params
    assert HANGUL.search(text), f"no Korean translation of {msgid!r}"
    return text


def korean_plural(singular: str, plural: str, number: int, **params) -> str:
    with translation.override("ko"):
        text = translation.ngettext(singular, plural, number) % params
    assert HANGUL.search(text), f"no Korean translation of {singular!r}"
    return text


def ready_media_key(sandbox) -> str:
    with sandbox.state.lock:
        for ufk, row in sandbox.state.media.items():
            if row["stage"] == "completed":
                return ufk
    raise AssertionError("the sandbox seed has no ready media")


def log_row(client, delivery: CallbackDelivery) -> str:
    html = client.get(reverse("wagtail_kollus_callbacks:index")).content.decode()
    match = re.search(rf'<tr data-kollus-callback="{delivery.pk}".*?</tr>', html, re.S)
    assert match, "the delivery is not in the callback log"
    return match.group(0)


# --- the callback log: a lease taken over in a Korean worker -------------------------------------


@pytest.mark.django_db
def test_a_callback_taken_over_in_a_korean_worker_reads_in_each_editors_language(
    korean_site, english_editor, korean_editor, django_capture_on_commit_callbacks
):
    delivery = deliver("upload", upload_file_key="ufk-stopped")
    # Two workers stopped holding it already; the third lease expired too: given up.
    CallbackDelivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.PROCESSING,
        attempts=2,
        claim_token="dead",
        claimed_until=timezone.now() - timedelta(seconds=1),
    )
    with in_the_worker(), django_capture_on_commit_callbacks(execute=True):
        assert tasks.process_callback(delivery.fingerprint) == "already processed"
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    english = TAKEN_OVER[1] % {"count": 3}
    assert delivery.error_message == english  # the column the logs and site code read

    row = log_row(english_editor, delivery)
    assert english in row
    assert not HANGUL.search(row), row
    assert korean_plural(*TAKEN_OVER, 3, count=3) in log_row(korean_editor, delivery)


@pytest.mark.django_db
def test_an_api_failure_given_up_keeps_the_apis_words_inside_the_translated_sentence(
    korean_site, english_editor, korean_editor, django_capture_on_commit_callbacks
):
    korean_site.faults.set("kollus.media_detail", status=503)
    delivery = deliver("upload", upload_file_key=ready_media_key(korean_site))
    with in_the_worker():
        for _ in range(3):
            with django_capture_on_commit_callbacks(execute=True):
                tasks.process_callback(delivery.fingerprint)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.error_message.startswith("Gave up after 3 attempts: ")
    reason = delivery.error_message.removeprefix("Gave up after 3 attempts: ")
    assert "HTTP 503" in reason

    row = log_row(english_editor, delivery)
    assert "Gave up after 3 attempts" in row and not HANGUL.search(row), row
    given_up = (
        "Gave up after %(count)d attempt: %(reason)s",
        "Gave up after %(count)d attempts: %(reason)s",
    )
    # The sandbox's own words stay as they came, HTML-escaped in the page like any text.
    expected = korean_plural(*given_up, 3, count=3, reason=reason)
    assert escape(expected) in log_row(korean_editor, delivery)


# --- the video library: a refused edit, pushed by a Korean worker ---------------------------------


def reason_on_edit_screen(client, media: KollusMedia) -> str:
    html = client.get(reverse("kollus_media:edit", args=(media.pk,))).content.decode()
    match = re.search(r"<p data-kollus-media-reason>(.*?)</p>", html, re.S)
    assert match, "the edit screen shows no reason"
    return match.group(1)


@pytest.mark.django_db
def test_a_refused_metadata_push_reads_in_each_editors_language(
    korean_site, english_editor, korean_editor
):
    ufk = ready_media_key(korean_site)
    media = KollusMedia.objects.create(title="Edited", upload_file_key=ufk, state=MediaState.READY)
    korean_site.faults.set("kollus.media_update", status=422, times=5)
    with in_the_worker():
        assert tasks.push_metadata(media.pk) == "failed"
    media.refresh_from_db()
    assert media.error_message.startswith("Kollus did not accept the new title/category: ")
    reason = media.error_message.removeprefix("Kollus did not accept the new title/category: ")
    assert "Sandbox fault" in reason and "{" not in reason  # the API's words, not a dict's repr

    english = reason_on_edit_screen(english_editor, media)
    assert english == escape(media.error_message) and not HANGUL.search(english)
    assert reason_on_edit_screen(korean_editor, media) == escape(
        korean(NOT_ACCEPTED, reason=reason)
    )
    # The library's State column says the same.
    listing = english_editor.get(reverse("kollus_media:index")).content.decode()
    assert "Kollus did not accept the new title/category" in listing


@pytest.mark.django_db
def test_a_failed_kollus_upload_command_reads_in_each_editors_language(
    korean_site, english_editor, korean_editor, tmp_path
):
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"x" * 5000)
    korean_site.faults.set("kollus.upload_create_url", status=500, times=10)
    err = StringIO()
    with in_the_worker(), pytest.raises(SystemExit):  # a command runs in LANGUAGE_CODE too
        call_command("kollus_upload", str(clip), "--no-progress", stdout=StringIO(), stderr=err)
    media = KollusMedia.objects.get()
    assert media.error_message.startswith("Kollus did not give an upload URL: ")
    reason = media.error_message.removeprefix("Kollus did not give an upload URL: ")
    assert media.error_message in err.getvalue()  # the command prints the English

    english = reason_on_edit_screen(english_editor, media)
    assert english == escape(media.error_message) and not HANGUL.search(english)
    expected = korean("Kollus did not give an upload URL: %(reason)s", reason=reason)
    assert reason_on_edit_screen(korean_editor, media) == escape(expected)


@pytest.mark.django_db
def test_a_reason_written_before_messages_were_stored_shows_as_it_is(
    korean_site, english_editor, korean_editor
):
    media = KollusMedia.objects.create(
        title="Old failure",
        upload_file_key="ufk-old",
        state=MediaState.FAILED,
        error_message="Kollus 서버 오류 (older version)",
    )
    for client in (english_editor, korean_editor):
        assert reason_on_edit_screen(client, media) == "Kollus 서버 오류 (older version)"


# --- the page editor's sync panel and the sync report ---------------------------------------------


@pytest.mark.django_db
def test_a_sync_given_up_by_a_korean_worker_reads_in_each_editors_language(
    korean_site, settings, english_editor, korean_editor, django_capture_on_commit_callbacks
):
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "SYNC_RETRY_HORIZON": 60}
    page = make_course()
    with django_capture_on_commit_callbacks(execute=True):
        publish(page)
    # Its workers kept stopping (their leases expired) for longer than the retry horizon.
    PageContentLink.objects.filter(page_key=page.pk).update(
        claim_token="dead",
        claimed_until=timezone.now(),
        attempts=4,
        first_failure_at=timezone.now() - timedelta(minutes=5),
    )
    with in_the_worker(), django_capture_on_commit_callbacks(execute=True):
        assert sync_page(page.pk) == "idle"
    link = link_of(page)
    assert link.state == "failed" and link.last_error == WORKER_STOPPED

    status_url = reverse("wagtail_kollus_sync:status", args=[page.pk])
    report_url = reverse("wagtail_kollus_sync:report")
    row_pattern = rf'<tr data-kollus-sync-row="{page.pk}".*?</tr>'

    status = json.loads(english_editor.get(status_url).content)
    assert status["summary"] == WORKER_STOPPED == status["message"]
    report = english_editor.get(report_url).content.decode()
    row = re.search(row_pattern, report, re.S).group(0)
    assert WORKER_STOPPED in row and not HANGUL.search(row), row
    panel = english_editor.get(reverse("wagtailadmin_pages:edit", args=[page.pk])).content.decode()
    assert WORKER_STOPPED in panel

    in_korean = korean(WORKER_STOPPED)
    assert json.loads(korean_editor.get(status_url).content)["summary"] == in_korean
    report = korean_editor.get(report_url).content.decode()
    assert in_korean in re.search(row_pattern, report, re.S).group(0)


@pytest.mark.cluster
@pytest.mark.django_db(transaction=True)
def test_a_conflict_failed_by_the_real_cluster_reads_in_each_editors_language(
    korean_site, settings, django_user_model
):
    # The real django-q2 cluster: its workers activate no language, so they run in "ko".
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "SYNC_CONFLICT_POLICY": "fail"}
    with running_cluster():
        page = make_course()
        publish(page)
        link = synced_link(page)
        # Someone edits the record in the shop: under the "fail" policy the next push stops.
        contents_client().update_content(link.content_id, {"title": "Edited on the shop"})
        publish(page, intro="<p>New intro</p>")
        wait_for(lambda: PageContentLink.objects.filter(page_key=page.pk, state="failed").exists())
    link = link_of(page)
    english = CONFLICT % {"fields": "title"}
    assert link.last_error == english

    status_url = reverse("wagtail_kollus_sync:status", args=[page.pk])
    english_status = json.loads(editor(django_user_model, "en").get(status_url).content)
    assert english_status["summary"] == english
    korean_status = json.loads(editor(django_user_model, "ko").get(status_url).content)
    assert korean_status["summary"] == korean(CONFLICT, fields="title")


# --- the module -----------------------------------------------------------------------------------


def test_a_message_survives_its_column_and_is_rendered_in_the_active_language():
    reason = Message.gettext("Kollus does not list this media yet.")
    message = Message.ngettext(*TAKEN_OVER, 2, count=2)
    nested = Message.ngettext(
        "Gave up after %(count)d attempt: %(reason)s",
        "Gave up after %(count)d attempts: %(reason)s",
        3,
        count=3,
        reason=reason,
    )
    for original in (reason, message, nested, Message.verbatim("HTTP 503 <b>")):
        stored = columns("error_message", original)
        assert json.loads(json.dumps(stored["error_message_i18n"])) == stored["error_message_i18n"]
        assert Message.from_json(stored["error_message_i18n"]) == original
        with translation.override("ko"):
            assert shown(stored["error_message"], stored["error_message_i18n"]) == str(original)
    stored = columns("error_message", nested)
    with translation.override("ko"):
        text = shown(stored["error_message"], stored["error_message_i18n"])
    # The inner message is translated too, once.
    assert text == korean_plural(
        "Gave up after %(count)d attempt: %(reason)s",
        "Gave up after %(count)d attempts: %(reason)s",
        3,
        count=3,
        reason=korean("Kollus does not list this media yet."),
    )
    assert columns("error_message", None) == {"error_message": "", "error_message_i18n": {}}


def test_a_message_that_no_longer_agrees_with_its_text_is_not_shown():
    stored = columns("error_message", Message.gettext("Kollus does not list this media yet."))
    # Code that knows nothing of the JSON column rewrote the text: the text is what is true.
    with translation.override("ko"):
        assert shown("Set by a site's own code.", stored["error_message_i18n"]) == (
            "Set by a site's own code."
        )
        assert shown("", stored["error_message_i18n"]) == ""
        assert shown("Text only", {}) == "Text only"
        assert shown("Text only", {"msgid": 3}) == "Text only"


def test_a_catalogue_whose_placeholders_do_not_match_shows_the_english_sentence():
    # Another version's catalogue may name its placeholders differently: no 500 page.
    message = Message.gettext("Unexpected error: %(error)s", detail="boom")
    with translation.override("ko"):
        assert message.render() == "Unexpected error: %(error)s"
