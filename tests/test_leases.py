"""The lease rule (``wagtail_kollus.leases``) on both kinds of claimed work, in this process.

Callback deliveries and page syncs: a lease whose worker stopped is taken over, transient
errors (a busy database above all) are retried through ``next_attempt_at`` and the sweep,
permanent ones are reported, a delivery that keeps failing ends failed in the callback log
with a working "Retry", and no retry leaves a django-q2 ``Schedule`` row behind. Remote calls
go over HTTP to the sandbox; the real cluster (a worker SIGKILLed mid-callback) is in
``test_leases_cluster.py``.
"""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
import requests
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.db import OperationalError
from django.db.models.signals import post_save
from django.test import Client
from django.urls import reverse
from django.utils import formats, timezone, translation
from django_q.models import OrmQ, Schedule

from tests.factories import make_course, publish
from tests.sync_support import SYNC_TEST_SETTINGS, link_of
from wagtail_kollus import leases
from wagtail_kollus.api.errors import (
    AuthenticationError,
    NotFoundError,
    RateLimitedError,
    UnavailableError,
    ValidationError,
)
from wagtail_kollus.media import jobs, tasks
from wagtail_kollus.models import (
    CallbackDelivery,
    ContentRecord,
    DeliveryStatus,
    KollusMedia,
    MediaState,
    PageContentLink,
    SyncLogEntry,
)
from wagtail_kollus.models.callbacks import delivery_fingerprint
from wagtail_kollus.sweep import sweep
from wagtail_kollus.sync.engine import sync_page

pytestmark = pytest.mark.django_db

ACCOUNT = "sandbox-account"


@pytest.fixture
def kollus(sandbox, settings):
    settings.WAGTAIL_KOLLUS = sandbox.kollus_settings(
        KOLLUS_RATE_LIMIT_PER_SECOND=1000,
        KOLLUS_RATE_LIMIT_PER_MINUTE=60000,
        # One HTTP attempt per call: the retries under test are the delivery's own.
        MAX_RETRIES=0,
        CALLBACK_RETRY_DELAYS=[0, 0],
        **SYNC_TEST_SETTINGS,
    )
    return sandbox


def ready_media_key(sandbox) -> str:
    """A seeded media the sandbox reports transcoded and in a channel."""
    with sandbox.state.lock:
        for ufk, row in sandbox.state.media.items():
            if row["stage"] == "completed" and row["channels"]:
                return ufk
    raise AssertionError("the sandbox seed has no ready media")


def deliver(kind: str = "upload", **payload: str) -> CallbackDelivery:
    payload = {"content_provider_key": ACCOUNT, **payload}
    return CallbackDelivery.objects.create(
        kind=kind,
        fingerprint=delivery_fingerprint(kind, payload),
        upload_file_key=payload["upload_file_key"],
        payload=payload,
    )


def process(delivery: CallbackDelivery, capture) -> str:
    """What the worker does with the job the endpoint (or the sweep) queued."""
    with capture(execute=True):
        return tasks.process_callback(delivery.fingerprint)


def queued_fingerprints() -> list[str]:
    return [
        q.task["args"][0]
        for q in OrmQ.objects.order_by("pk")
        if q.task["func"].endswith("process_callback")
    ]


class FailOnce:
    """A ``post_save`` receiver that raises what a busy SQLite raises, the first ``times``
    times: the write under test meets ``database is locked`` exactly where a real lock would
    (inside its transaction, which is rolled back). ``error`` raises something else."""

    def __init__(self, model, times: int = 1, error: Exception | None = None) -> None:
        self.model, self.left = model, times
        self.error = error or OperationalError("database is locked")

    def __call__(self, sender, **kwargs) -> None:
        if self.left > 0:
            self.left -= 1
            raise self.error

    def __enter__(self) -> FailOnce:
        post_save.connect(self, sender=self.model, weak=False)
        return self

    def __exit__(self, *exc) -> None:
        post_save.disconnect(self, sender=self.model)


# --- callbacks: transient errors ----------------------------------------------------------------


def test_a_busy_database_during_callback_processing_is_retried_then_processed(
    kollus, django_capture_on_commit_callbacks
):
    ufk = ready_media_key(kollus)
    delivery = deliver("upload", upload_file_key=ufk, filename="console")
    with FailOnce(KollusMedia) as lock:
        assert process(delivery, django_capture_on_commit_callbacks) == "retry scheduled"
    assert lock.left == 0
    delivery.refresh_from_db()
    # Not lost, not "processing" forever: waiting for its retry, with the reason shown.
    assert delivery.status == DeliveryStatus.QUEUED
    assert delivery.attempts == 1 and delivery.next_attempt_at is not None
    assert "database is locked" in delivery.error_message
    assert not delivery.claim_token and delivery.claimed_until is None
    assert not KollusMedia.objects.filter(upload_file_key=ufk).exists()  # rolled back
    # The retry is no django-q2 schedule: the sweep queues the delivery once it is due.
    assert not Schedule.objects.exists()
    assert sweep() == "queued 0 page sync(s) and 1 callback delivery(ies)"
    assert queued_fingerprints() == [delivery.fingerprint]

    assert process(delivery, django_capture_on_commit_callbacks) == "processed"
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PROCESSED and delivery.error_message == ""
    assert KollusMedia.objects.get(upload_file_key=ufk).state == MediaState.READY
    assert not Schedule.objects.exists()


def test_a_delivery_whose_retry_is_not_due_is_left_alone(kollus, django_capture_on_commit_callbacks):
    delivery = deliver("upload", upload_file_key=ready_media_key(kollus))
    CallbackDelivery.objects.filter(pk=delivery.pk).update(
        attempts=1, next_attempt_at=timezone.now() + timedelta(minutes=5)
    )
    requests_before = kollus.request_count()
    assert process(delivery, django_capture_on_commit_callbacks) == "already processed"
    assert kollus.request_count() == requests_before
    assert sweep() == "queued 0 page sync(s) and 0 callback delivery(ies)"


def test_a_permanent_api_answer_fails_the_delivery_at_once(
    kollus, settings, django_capture_on_commit_callbacks
):
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "KOLLUS_ACCESS_TOKEN": "wrong-token-123"}
    delivery = deliver("upload", upload_file_key=ready_media_key(kollus))
    assert process(delivery, django_capture_on_commit_callbacks) == "failed"
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == 0
    assert "HTTP 401" in delivery.error_message
    assert "wrong-token-123" not in delivery.error_message


def test_a_local_error_quoting_a_secret_is_recorded_redacted(
    kollus, settings, django_capture_on_commit_callbacks
):
    token = settings.WAGTAIL_KOLLUS["KOLLUS_ACCESS_TOKEN"]
    key = settings.WAGTAIL_KOLLUS["CONTENTS_API_KEY"]
    reset = requests.ConnectionError(f"reset while GET /media?access_token={token} (key {key})")
    delivery = deliver("upload", upload_file_key=ready_media_key(kollus))
    with FailOnce(KollusMedia, error=reset):
        assert process(delivery, django_capture_on_commit_callbacks) == "retry scheduled"
    delivery.refresh_from_db()
    assert "reset while GET" in delivery.error_message
    assert token not in delivery.error_message and key not in delivery.error_message
    page = make_course()
    with django_capture_on_commit_callbacks(execute=True):
        publish(page)
    with FailOnce(ContentRecord, error=reset), django_capture_on_commit_callbacks(execute=True):
        sync_page(page.pk)
    errors = [e.error for e in SyncLogEntry.objects.filter(operation="error")]
    assert errors and "reset while GET" in errors[0]["message"]
    assert token not in str(errors) and key not in str(errors)
    assert token not in link_of(page).last_error and key not in link_of(page).last_error


# --- callbacks: a delivery that keeps failing, the log, Retry ----------------------------------


def csrf_token_of(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def log_row(html: str, delivery: CallbackDelivery) -> str:
    match = re.search(rf'<tr data-kollus-callback="{delivery.pk}".*?</tr>', html, re.S)
    assert match, "the delivery is not in the callback log"
    return match.group(0)


def test_a_delivery_that_keeps_failing_ends_failed_in_the_log_and_retry_processes_it(
    kollus, django_capture_on_commit_callbacks, django_user_model
):
    kollus.faults.set("kollus.media_detail", status=503)
    ufk = ready_media_key(kollus)
    delivery = deliver("transcoding", upload_file_key=ufk, transcoding_result="success")
    outcomes = [process(delivery, django_capture_on_commit_callbacks) for _ in range(3)]
    # CALLBACK_RETRY_DELAYS has two delays: two retries, then the third failure is final.
    assert outcomes == ["retry scheduled", "retry scheduled", "failed"]
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == 3
    assert delivery.error_message.startswith("Gave up after 3 attempts")
    assert "HTTP 503" in delivery.error_message
    assert process(delivery, django_capture_on_commit_callbacks) == "already processed"
    assert sweep() == "queued 0 page sync(s) and 0 callback delivery(ies)"

    # Visible: Reports → Kollus callbacks, failed, with Retry (a POST form with a CSRF token).
    editor = django_user_model.objects.create_user("editor", "e@example.com", "pw")
    group = Group.objects.create(name="Video editors")
    group.permissions.add(
        Permission.objects.get(codename="access_admin"),
        Permission.objects.get(codename="change_kollusmedia"),
    )
    editor.groups.add(group)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(editor)
    dashboard = browser.get(reverse("wagtailadmin_home")).content.decode()
    assert reverse("wagtail_kollus_callbacks:index") in dashboard  # in the Reports menu
    html = browser.get(reverse("wagtail_kollus_callbacks:index"), {"status": "failed"})
    html = html.content.decode()
    row = log_row(html, delivery)
    assert 'data-status="failed"' in row and "Gave up after 3 attempts" in row
    retry_url = reverse("wagtail_kollus_callbacks:retry", args=[delivery.pk])
    assert f'action="{retry_url}?status=failed"' in row and "data-kollus-callback-retry" in row

    # Retry is a POST, with Django's CSRF check.
    assert browser.get(retry_url).status_code == 405
    assert browser.post(retry_url).status_code == 403
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    kollus.faults.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post(
            retry_url + "?status=failed", {"csrfmiddlewaretoken": csrf_token_of(html)}
        )
    assert response.status_code == 302
    assert response["Location"] == reverse("wagtail_kollus_callbacks:index") + "?status=failed"
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.QUEUED
    assert (delivery.attempts, delivery.error_message, delivery.next_attempt_at) == (0, "", None)
    assert queued_fingerprints() == [delivery.fingerprint]  # the retry's job
    assert process(delivery, django_capture_on_commit_callbacks) == "processed"
    assert KollusMedia.objects.get(upload_file_key=ufk).state == MediaState.READY
    # A second Retry of a processed delivery changes nothing.
    browser.post(retry_url, {"csrfmiddlewaretoken": csrf_token_of(html)})
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PROCESSED
    assert not Schedule.objects.exists()


def test_reading_the_log_is_not_enough_to_retry(kollus, django_user_model):
    delivery = deliver("upload", upload_file_key="ufk-x")
    CallbackDelivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.FAILED)
    reader = django_user_model.objects.create_user("reader", "r@example.com", "pw")
    group = Group.objects.create(name="Readers")
    group.permissions.add(
        Permission.objects.get(codename="access_admin"),
        Permission.objects.get(codename="view_kollusmedia"),
    )
    reader.groups.add(group)
    client = Client()
    client.force_login(reader)
    html = client.get(reverse("wagtail_kollus_callbacks:index")).content.decode()
    assert 'data-status="failed"' in log_row(html, delivery)
    assert "data-kollus-callback-retry" not in html
    response = client.post(reverse("wagtail_kollus_callbacks:retry", args=[delivery.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("wagtailadmin_home")
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert not OrmQ.objects.exists()


def test_the_same_console_edit_later_is_a_new_round_of_attempts(kollus):
    from wagtail_kollus.media.callbacks import REDELIVERY_WINDOW, record_delivery

    payload = {"upload_file_key": "ufk-edited", "update_type": "title"}
    assert record_delivery("content-update", dict(payload))
    delivery = CallbackDelivery.objects.get()
    CallbackDelivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.FAILED,
        attempts=7,
        last_received_at=timezone.now() - REDELIVERY_WINDOW - timedelta(minutes=1),
    )
    assert record_delivery("content-update", dict(payload))  # processed again, as documented
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.times_received) == ("queued", 0, 2)


# --- callbacks: leases whose worker stopped -------------------------------------------------------


def test_a_delivery_left_processing_by_a_stopped_worker_is_taken_over_and_processed(
    kollus, django_capture_on_commit_callbacks
):
    ufk = ready_media_key(kollus)
    delivery = deliver("upload", upload_file_key=ufk)
    # What a SIGKILLed worker leaves: "processing", its lease, nobody to finish.
    CallbackDelivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.PROCESSING,
        claim_token="dead",
        claimed_by="web-1:4242",
        claimed_until=timezone.now() + timedelta(seconds=60),
    )
    # While the lease runs, django-q2's redelivery or the sweep leave it to its holder...
    assert process(delivery, django_capture_on_commit_callbacks) == "already processed"
    assert sweep() == "queued 0 page sync(s) and 0 callback delivery(ies)"
    # ...once it has expired, the next worker takes it over (and counts the stopped attempt).
    CallbackDelivery.objects.filter(pk=delivery.pk).update(
        claimed_until=timezone.now() - timedelta(seconds=1)
    )
    assert sweep() == "queued 0 page sync(s) and 1 callback delivery(ies)"
    assert process(delivery, django_capture_on_commit_callbacks) == "processed"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PROCESSED, 1)
    assert (delivery.claim_token, delivery.claimed_by, delivery.claimed_until) == ("", "", None)
    assert KollusMedia.objects.filter(upload_file_key=ufk, state=MediaState.READY).exists()


def test_a_delivery_stuck_processing_before_leases_existed_is_processed(
    kollus, django_capture_on_commit_callbacks
):
    # Earlier versions flipped queued → processing with no lease at all.
    delivery = deliver("upload", upload_file_key=ready_media_key(kollus))
    CallbackDelivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.PROCESSING)
    assert process(delivery, django_capture_on_commit_callbacks) == "processed"


def test_a_delivery_that_stops_every_worker_ends_failed(kollus, django_capture_on_commit_callbacks):
    delivery = deliver("upload", upload_file_key=ready_media_key(kollus))
    # Two stopped attempts already (CALLBACK_RETRY_DELAYS allows two retries), a third expired.
    CallbackDelivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.PROCESSING,
        attempts=2,
        claim_token="dead",
        claimed_until=timezone.now() - timedelta(seconds=1),
    )
    requests_before = kollus.request_count()
    assert process(delivery, django_capture_on_commit_callbacks) == "already processed"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 3)
    assert "stopped each time" in delivery.error_message
    assert kollus.request_count() == requests_before  # not tried a fourth time


# --- sync: an error after the remote create ------------------------------------------------------


def test_an_error_after_the_remote_create_keeps_the_content_id_and_the_retry_adds_no_duplicate(
    kollus, settings, django_capture_on_commit_callbacks, admin_client
):
    # The retry is deferred (not slept in the worker) so the state in between can be checked.
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "SYNC_INLINE_RETRY_MAX": 0}
    page = make_course()
    with django_capture_on_commit_callbacks(execute=True):
        publish(page)
    # The POST lands, then the mirror's write meets a locked database.
    with FailOnce(ContentRecord), django_capture_on_commit_callbacks(execute=True):
        assert sync_page(page.pk) == "retrying"
    link = link_of(page)
    assert link.content_id is not None, "the record exists remotely: its id must be kept"
    assert link.state == "pending" and link.attempts == 1
    assert "database is locked" in link.last_error
    assert link.next_attempt_at is not None
    assert not Schedule.objects.exists()
    assert kollus.request_count("contents.create") == 1
    # Reports → Contents sync shows it pending, why, and when it is tried again.
    report = admin_client.get(reverse("wagtail_kollus_sync:report")).content.decode()
    row = re.search(rf'<tr data-kollus-sync-row="{page.pk}".*?</tr>', report, re.S).group(0)
    assert "Temporary error: database is locked" in row
    shown = formats.localize(timezone.template_localtime(link.next_attempt_at))
    assert re.search(rf"<td>1</td>\s*<td>{re.escape(shown)}</td>", row), row  # attempts, next

    PageContentLink.objects.filter(pk=link.pk).update(next_attempt_at=timezone.now())
    assert sweep() == "queued 1 page sync(s) and 0 callback delivery(ies)"
    with django_capture_on_commit_callbacks(execute=True):
        assert sync_page(page.pk) == "synced"
    link = link_of(page)
    assert link.state == "synced" and not link.is_outstanding
    assert kollus.request_count("contents.create") == 1
    ours = [c for c in kollus.state.contents.values() if c["extra"].get("external_id")]
    assert [c["content_id"] for c in ours] == [link.content_id]
    # The mirror the failed write missed is caught up.
    assert ContentRecord.objects.get(content_id=link.content_id).title == "Python basics"
    errors = SyncLogEntry.objects.filter(link=link, operation="error")
    assert [e.error["error"] for e in errors] == ["LocalError"]


def test_a_bug_in_a_mapping_is_final(kollus, settings, django_capture_on_commit_callbacks):
    from tests.testapp.models import CourseMapping

    page = make_course()
    with django_capture_on_commit_callbacks(execute=True):
        publish(page)

    def broken(self, page):
        raise KeyError("chapters")

    original = CourseMapping.build_payload
    CourseMapping.build_payload = broken
    try:
        with django_capture_on_commit_callbacks(execute=True):
            assert sync_page(page.pk) == "failed"
    finally:
        CourseMapping.build_payload = original
    link = link_of(page)
    assert link.state == "failed" and "Unexpected error" in link.last_error


def test_a_page_left_claimed_by_a_stopped_worker_is_taken_over_and_synced(
    kollus, django_capture_on_commit_callbacks
):
    page = make_course()
    with django_capture_on_commit_callbacks(execute=True):
        publish(page)
    PageContentLink.objects.filter(page_key=page.pk).update(
        claim_token="dead", claimed_by="worker-9:99", claimed_until=timezone.now()
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert sync_page(page.pk) == "synced"
    link = link_of(page)
    assert link.state == "synced" and link.content_id
    assert link.attempts == 0  # reset by the success
    [stopped] = SyncLogEntry.objects.filter(link=link, operation="error")
    assert stopped.error["error"] == "WorkerStopped"


def test_a_page_whose_workers_keep_stopping_fails_after_the_horizon(
    kollus, settings, django_capture_on_commit_callbacks
):
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "SYNC_RETRY_HORIZON": 60}
    page = make_course()
    with django_capture_on_commit_callbacks(execute=True):
        publish(page)
    PageContentLink.objects.filter(page_key=page.pk).update(
        claim_token="dead",
        claimed_until=timezone.now(),
        attempts=4,
        first_failure_at=timezone.now() - timedelta(minutes=5),
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert sync_page(page.pk) == "idle"
    link = link_of(page)
    assert link.state == "failed" and link.attempts == 5
    assert "stopped before it finished" in link.last_error
    assert kollus.request_count("contents.*") == 0


# --- one-off follow-ups, the sweep's schedule ---------------------------------------------------


@pytest.mark.django_db(transaction=True)  # the scheduler closes this process's connections
def test_a_one_off_follow_up_deletes_its_schedule_once_it_ran(kollus):
    from django_q.brokers import get_broker
    from django_q.scheduler import scheduler

    media = KollusMedia.objects.create(title="Clip", upload_file_key="ufk-later")
    jobs.schedule_later("refresh_media", 0, media.pk)
    assert Schedule.objects.count() == 1
    scheduler(broker=get_broker())  # what the cluster runs about every 30 s
    assert not Schedule.objects.exists(), "a spent one-off schedule stayed behind"
    [job] = OrmQ.objects.all()
    assert job.task["func"] == "wagtail_kollus.media.tasks.refresh_media"
    assert job.task["args"] == (media.pk,)


def test_install_schedule_is_idempotent_and_removes_what_earlier_versions_left(capsys):
    from django_q.tasks import schedule

    later = timezone.now() + timedelta(hours=1)
    spent = dict(schedule_type=Schedule.ONCE, repeats=0, next_run=timezone.now())
    schedule("wagtail_kollus.sync.tasks.sync_page_task", 12, **spent)
    schedule("wagtail_kollus.media.tasks.process_callback", "f" * 64, 1, **spent)
    schedule("someone_else.tasks.job", **spent)
    waiting = schedule(
        "wagtail_kollus.media.tasks.refresh_media", 3, schedule_type=Schedule.ONCE, next_run=later
    )
    schedule(
        "wagtail_kollus.sync.tasks.sweep_outstanding",
        name="wagtail_kollus: sync sweep",
        schedule_type=Schedule.MINUTES,
        minutes=5,
        repeats=-1,
    )
    call_command("kollus_sweep", "--install-schedule")
    call_command("kollus_sweep", "--install-schedule")
    output = capsys.readouterr().out
    assert "Created schedule 'wagtail_kollus: sweep'" in output
    assert "Kept schedule 'wagtail_kollus: sweep'" in output
    assert "Removed 3 schedules earlier versions left behind." in output
    [ours] = Schedule.objects.filter(name="wagtail_kollus: sweep")
    assert (ours.func, ours.schedule_type, ours.minutes, ours.repeats) == (
        "wagtail_kollus.sweep.sweep",
        Schedule.MINUTES,
        1,
        -1,
    )
    left = set(Schedule.objects.values_list("func", flat=True))
    assert left == {"wagtail_kollus.sweep.sweep", "someone_else.tasks.job", waiting.func}


def test_the_sweep_queues_only_what_needs_a_job(kollus):
    now = timezone.now()
    long_ago = now - timedelta(hours=1)

    def delivery(name: str, **fields) -> CallbackDelivery:
        row = deliver("upload", upload_file_key=f"ufk-{name}")
        CallbackDelivery.objects.filter(pk=row.pk).update(**fields)
        return row

    expected = {
        delivery("expired", status="processing", claimed_until=now - timedelta(seconds=1)),
        delivery("due", attempts=1, next_attempt_at=now - timedelta(seconds=1)),
        delivery("lost", last_received_at=long_ago),
    }
    delivery("fresh")  # its job is in the queue
    delivery("held", status="processing", claimed_until=now + timedelta(minutes=1))
    delivery("later", attempts=1, next_attempt_at=now + timedelta(minutes=1))
    delivery("done", status="processed", last_received_at=long_ago)
    delivery("failed", status="failed", last_received_at=long_ago)
    assert sweep() == "queued 0 page sync(s) and 3 callback delivery(ies)"
    assert set(queued_fingerprints()) == {d.fingerprint for d in expected}
    # By hand (manage.py kollus_sweep), everything that waits, however recent.
    OrmQ.objects.all().delete()
    out = io.StringIO()
    call_command("kollus_sweep", stdout=out)
    assert len(queued_fingerprints()) == 4
    assert out.getvalue() == "Sweep: 0 page syncs queued, 4 callback deliveries queued.\n"
    # A Korean site's operator reads it in Korean.
    OrmQ.objects.all().delete()
    with translation.override("ko"):
        out = io.StringIO()
        call_command("kollus_sweep", stdout=out)
    assert "콜백" in out.getvalue() and "queued" not in out.getvalue(), out.getvalue()


# --- what is transient ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (OperationalError("database is locked"), True),
        (ConnectionResetError(104, "Connection reset by peer"), True),
        (TimeoutError(), True),
        (requests.ConnectionError("reset"), True),
        (requests.ReadTimeout("slow"), True),
        (UnavailableError(status_code=503), True),
        (RateLimitedError(retry_after=3), True),
        (AuthenticationError(status_code=401), False),
        (NotFoundError(status_code=404), False),
        (ValidationError(status_code=422, field_errors={"title": ["required"]}), False),
        (KeyError("chapters"), False),
        (ValueError("bad data"), False),
    ],
)
def test_only_what_may_pass_by_itself_is_transient(error, transient):
    assert leases.is_transient(error) is transient


def test_the_sweep_queues_a_lost_job_once_then_leaves_it_to_that_job(kollus):
    # A backlog waiting longer than LOST_JOB_SECONDS (a kollus_sync of 100 000 pages) was
    # queued again by every run of the sweep, once a minute: tens of thousands of duplicate
    # jobs a minute. A row the sweep queued is left to that job until it looks lost in turn.
    from wagtail_kollus.sync.tasks import sweep_outstanding

    now = timezone.now()
    lost = leases.LOST_JOB_SECONDS
    for n in range(3):
        PageContentLink.objects.create(
            page_key=9_000_000 + n,
            page_type="testapp.coursepage",
            state="pending",
            version=2,
            synced_version=1,
            requested_at=now - timedelta(seconds=lost + 300),
        )
    assert [sweep_outstanding(lost_after=lost) for _ in range(3)] == [3, 0, 0]
    # The job the sweep queued was lost too (nobody took it for as long): queued once more.
    PageContentLink.objects.update(swept_at=now - timedelta(seconds=lost + 1))
    assert sweep_outstanding(lost_after=lost) == 3
    # By hand (kollus_sync --pending) everything that waits is queued, marked or not.
    assert sweep_outstanding() == 3
    # A worker taking the row clears the mark: its next due retry is queued by the next run.
    link = PageContentLink.objects.get(page_key=9_000_000)
    claim = leases.claim(PageContentLink.objects.filter(pk=link.pk), seconds=60)
    assert claim is not None
    assert PageContentLink.objects.get(pk=link.pk).swept_at is None
    leases.release(
        PageContentLink.objects.filter(pk=link.pk),
        claim.token,
        attempts=1,
        next_attempt_at=timezone.now() - timedelta(seconds=1),
    )
    assert sweep_outstanding(lost_after=lost) == 1

    # Callback deliveries follow the same rule.
    deliver("upload", upload_file_key="ufk-lost")
    CallbackDelivery.objects.update(last_received_at=now - timedelta(hours=1))
    assert sweep() == "queued 0 page sync(s) and 1 callback delivery(ies)"
    assert sweep() == "queued 0 page sync(s) and 0 callback delivery(ies)"
