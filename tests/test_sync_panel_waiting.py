"""The sync panel of a page whose push waits: when the next attempt is (in words, in the
editor's time zone), and a hint when no worker has taken the push for minutes."""

from __future__ import annotations

import zoneinfo
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from wagtail.users.models import UserProfile

from tests.factories import make_course, publish
from tests.sync_support import link_of
from wagtail_kollus.models import PageContentLink
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
