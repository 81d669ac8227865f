"""The sync panel of a page whose push waits: when the next attempt is (in words, in the
editor's time zone), and a hint when no worker has taken the push for minutes: no worker
running at all, or workers busy with other pages (a backlog, or a job lost with a killed
cluster, which the sweep queues again)."""

from __future__ import annotations

import zoneinfo
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format, time_format
from django_q.models import OrmQ
from wagtail.users.models import UserProfile

from tests.factories import make_course, publish
from tests.sync_support import link_of
from wagtail_kollus.models import PageContentLink
from wagtail_kollus.sweep import LOST_JOB_SECONDS
from wagtail_kollus.sync.status import WORKER_SILENCE

pytestmark = pytest.mark.django_db


@pytest.fixture
def waiting_page(synced, django_capture_on_commit_callbacks):
    """A published page whose push is queued and that no worker has run."""
    with django_capture_on_commit_callbacks(execute=False):
        page = publish(make_course())
    assert link_of(page).is_outstanding
    return page


def panel(admin_client, page) -> str:
    return admin_client.get(reverse("wagtailadmin_pages:edit", args=[page.pk])).content.decode()


def status(admin_client, page) -> dict:
    return admin_client.get(reverse("wagtail_kollus_sync:status", args=[page.pk])).json()


def test_a_push_no_worker_took_for_minutes_says_the_queue_may_not_run(admin_client, waiting_page):
    PageContentLink.objects.filter(page_key=waiting_page.pk).update(
        requested_at=timezone.now() - timedelta(minutes=12)
    )
    html = panel(admin_client, waiting_page)
    assert "data-kollus-sync-worker-silent" in html
    assert "This push has been waiting for 12" in html
    assert "<code>manage.py qcluster</code>" in html
    assert "docs/troubleshooting.md" in html
    assert 'data-kollus-sync-state="pending"' in html
    assert status(admin_client, waiting_page)["worker_silent"] is True


def test_a_due_retry_nobody_took_says_so_too(admin_client, waiting_page):
    PageContentLink.objects.filter(page_key=waiting_page.pk).update(
        attempts=2, next_attempt_at=timezone.now() - WORKER_SILENCE - timedelta(seconds=30)
    )
    assert "data-kollus-sync-worker-silent" in panel(admin_client, waiting_page)


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({}, id="just queued"),
        pytest.param({"claimed_until": timezone.now() + timedelta(days=1)}, id="a worker holds it"),
        pytest.param(
            {"next_attempt_at": timezone.now() + timedelta(minutes=30)}, id="retry not due yet"
        ),
    ],
)
def test_no_hint_while_a_worker_may_still_take_it(admin_client, waiting_page, changes):
    PageContentLink.objects.filter(page_key=waiting_page.pk).update(
        requested_at=timezone.now() - timedelta(hours=1) if changes else timezone.now(), **changes
    )
    assert "data-kollus-sync-worker-silent" not in panel(admin_client, waiting_page)
    assert status(admin_client, waiting_page)["worker_silent"] is False


def test_the_next_attempt_is_told_in_words_and_in_the_editors_time_zone(
    admin_client, waiting_page
):
    admin = User.objects.get(username="admin")
    profile = UserProfile.get_for_user(admin)
    profile.current_time_zone = "Asia/Seoul"
    profile.save()
    when = timezone.now() + timedelta(minutes=3, seconds=30)
    PageContentLink.objects.filter(page_key=waiting_page.pk).update(
        attempts=1, next_attempt_at=when
    )
    html = panel(admin_client, waiting_page)
    assert "Next attempt in 3\xa0minutes." in html
    assert when.isoformat() not in html  # the raw timestamp the panel used to show
    seoul = when.astimezone(zoneinfo.ZoneInfo("Asia/Seoul"))
    assert f'title="{date_format(seoul, "DATETIME_FORMAT")}"' in html
    assert "data-kollus-sync-worker-silent" not in html
    # The JSON keeps the exact time for scripts.
    assert status(admin_client, waiting_page)["next_attempt_at"] == when.isoformat()


def test_a_retry_due_now_is_not_told_as_in_zero_minutes(admin_client, waiting_page):
    PageContentLink.objects.filter(page_key=waiting_page.pk).update(
        attempts=1, next_attempt_at=timezone.now() - timedelta(seconds=5)
    )
    html = panel(admin_client, waiting_page)
    assert "Next attempt due now." in html
    assert "Next attempt in" not in html


# --- workers busy elsewhere: a backlog, or this push's job was lost with a killed cluster -----
def another_link(**changes) -> None:
    """Another page's link, as a worker left it (synced, or held right now)."""
    page = publish(make_course())
    PageContentLink.objects.filter(page_key=page.pk).update(**changes)


def test_a_push_waiting_while_workers_sync_other_pages_is_not_blamed_on_the_queue(
    admin_client, waiting_page
):
    requested = timezone.now() - timedelta(minutes=12)
    PageContentLink.objects.filter(page_key=waiting_page.pk).update(requested_at=requested)
    another_link(
        state="synced", synced_version=1, last_synced_at=timezone.now() - timedelta(minutes=4)
    )
    html = panel(admin_client, waiting_page)
    assert "data-kollus-sync-worker-silent" not in html
    assert "manage.py qcluster" not in html
    assert "data-kollus-sync-waiting-behind" in html
    assert "This push has been waiting for 12\xa0minutes while workers sync other pages" in html
    # The sweep's rule for a job nobody claimed: LOST_JOB_SECONDS after the request, at its
    # next run (every minute, started up to 30 s late by django-q2's scheduler), told as a
    # whole minute that is not too early.
    latest = requested + timedelta(seconds=LOST_JOB_SECONDS + 90)
    requeue = latest.replace(second=0, microsecond=0)
    requeue += timedelta(minutes=1) if requeue < latest else timedelta(0)
    assert f"the sweep queues it again by {time_format(timezone.localtime(requeue))}" in html
    assert "“Retry now” queues it at once" in html
    assert "data-kollus-sync-retry" in html
    data = status(admin_client, waiting_page)
    assert (data["worker_silent"], data["waiting_behind"]) == (False, True)
    assert data["requeued_by"] == requeue.isoformat()


def test_a_worker_holding_another_page_counts_as_sync_work(admin_client, waiting_page):
    PageContentLink.objects.filter(page_key=waiting_page.pk).update(
        requested_at=timezone.now() - timedelta(minutes=40)
    )
    another_link(claimed_until=timezone.now() + timedelta(minutes=1), claimed_by="host:1")
    data = status(admin_client, waiting_page)
    assert (data["worker_silent"], data["waiting_behind"]) == (False, True)
    # Long past LOST_JOB_SECONDS: every sweep queues it again, the next within its minute.
    requeue = timezone.datetime.fromisoformat(data["requeued_by"])
    assert timedelta(minutes=1, seconds=30) <= requeue - timezone.now() <= timedelta(minutes=3)
    assert (requeue.second, requeue.microsecond) == (0, 0)


@pytest.mark.parametrize(
    "synced_ago",
    [
        pytest.param(timedelta(minutes=13), id="before this push was queued"),
        pytest.param(timedelta(seconds=LOST_JOB_SECONDS + 60), id="before the sweep's window"),
    ],
)
def test_sync_work_too_long_ago_still_says_the_queue_may_not_run(
    admin_client, waiting_page, synced_ago
):
    PageContentLink.objects.filter(page_key=waiting_page.pk).update(
        requested_at=timezone.now() - timedelta(minutes=12)
        if synced_ago < timedelta(minutes=14)
        else timezone.now() - timedelta(hours=1)
    )
    another_link(state="synced", synced_version=1, last_synced_at=timezone.now() - synced_ago)
    # A lease that ended long ago is a stopped worker, not a running one.
    another_link(claimed_until=timezone.now() - timedelta(minutes=30))
    html = panel(admin_client, waiting_page)
    assert "data-kollus-sync-worker-silent" in html
    assert "data-kollus-sync-waiting-behind" not in html
    data = status(admin_client, waiting_page)
    assert (data["worker_silent"], data["waiting_behind"], data["requeued_by"]) == (True, False, "")


def test_retry_now_queues_a_pending_push_nobody_claimed(
    admin_client, waiting_page, django_capture_on_commit_callbacks
):
    """The remedy the message offers: a job queued at once, and the sweep's clock restarted."""
    PageContentLink.objects.filter(page_key=waiting_page.pk).update(
        requested_at=timezone.now() - timedelta(minutes=12)
    )
    OrmQ.objects.all().delete()  # the job queued with the publish, as if lost
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("wagtail_kollus_sync:retry", args=[waiting_page.pk]),
            HTTP_ACCEPT="application/json",
        )
    assert response.json()["state"] == "pending"
    queued = [q.task for q in OrmQ.objects.all()]
    assert [(t["func"], t["args"]) for t in queued] == [
        ("wagtail_kollus.sync.tasks.sync_page_task", (waiting_page.pk,))
    ]
    assert timezone.now() - link_of(waiting_page).requested_at < timedelta(minutes=1)
