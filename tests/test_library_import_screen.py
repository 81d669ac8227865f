"""The library's "Import from Kollus" screen: linked from the library's header for who may add
videos, starts or resumes a run as a django-q2 task, shows its progress (a fragment the page
polls) and why a run stopped, as a message, never a 500."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.messages import get_messages
from django.urls import reverse
from django_q.models import OrmQ

from wagtail_kollus.media import tasks
from wagtail_kollus.models import ImportStatus, KollusImportRun, KollusMedia

from .media_support import seed_channel


@pytest.fixture
def editor(django_user_model, client):
    """May add videos (and nothing else of the plugin)."""
    user = django_user_model.objects.create_user("importer", "importer@example.com", "pw")
    group = Group.objects.create(name="importers")
    group.permissions.add(
        Permission.objects.get(codename="access_admin"),
        Permission.objects.get(codename="add_kollusmedia"),
        Permission.objects.get(codename="view_kollusmedia"),
    )
    user.groups.add(group)
    client.force_login(user)
    return user


def run_queued_task() -> None:
    """What a cluster worker would do with the queued task (one slice)."""
    task = OrmQ.objects.order_by("pk").first().task
    OrmQ.objects.all().delete()
    assert task["func"] == "wagtail_kollus.media.tasks.import_library"
    tasks.import_library(*task["args"])


@pytest.mark.django_db
def test_the_library_links_to_the_screen_only_for_who_may_add(client, editor, django_user_model):
    index = client.get(reverse("kollus_media:index"))
    assert reverse("kollus_media:import") in index.content.decode()
    viewer = django_user_model.objects.create_user("viewer", "viewer@example.com", "pw")
    group = Group.objects.create(name="viewers")
    group.permissions.add(
        Permission.objects.get(codename="access_admin"),
        Permission.objects.get(codename="view_kollusmedia"),
    )
    viewer.groups.add(group)
    client.force_login(viewer)
    index = client.get(reverse("kollus_media:index"))
    assert index.status_code == 200
    assert reverse("kollus_media:import") not in index.content.decode()
    assert client.get(reverse("kollus_media:import")).status_code == 302  # Wagtail's refusal


@pytest.mark.django_db
def test_import_from_the_screen_stops_shows_why_and_resumes(kollus, client, editor, settings):
    seed_channel(kollus, 300)
    screen = client.get(reverse("kollus_media:import"))
    assert screen.status_code == 200
    assert "No import has run yet." in screen.content.decode()

    started = client.post(reverse("kollus_media:import"), follow=True)
    assert "The import has started." in [str(m) for m in get_messages(started.wsgi_request)]
    assert OrmQ.objects.count() == 1
    run = KollusImportRun.objects.get()
    assert run.started_by == editor and run.status == ImportStatus.QUEUED
    assert 'data-polling="true"' in started.content.decode()

    kollus.faults.set("kollus.media_list", status=401, after=1)
    run_queued_task()
    run.refresh_from_db()
    assert (run.status, run.next_page) == (ImportStatus.FAILED, 2)
    assert not OrmQ.objects.exists()  # a stopped run does not queue itself again

    screen = client.get(reverse("kollus_media:import"))
    html = screen.content.decode()
    assert screen.status_code == 200
    errors = [str(m) for m in get_messages(screen.wsgi_request)]
    assert len(errors) == 1 and "401" in errors[0] and "resume" in errors[0]
    assert "Resume import" in html and "100 of 300 media read" in html
    assert 'value="33"' in html and "data-polling" not in html
    assert kollus.keys.access_token not in html

    kollus.faults.clear()
    resumed = client.post(reverse("kollus_media:import"), follow=True)
    assert "The import goes on from page 2." in [str(m) for m in get_messages(resumed.wsgi_request)]
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "IMPORT_TASK_SECONDS": 0}
    while OrmQ.objects.exists():  # one page per slice: each slice queues the next
        run_queued_task()
    run.refresh_from_db()
    assert run.status == ImportStatus.FINISHED and KollusMedia.objects.count() == 300

    fragment = client.get(reverse("kollus_media:import_progress"))
    assert fragment.status_code == 200 and "no-store" in fragment["Cache-Control"]
    body = fragment.content.decode()
    assert "300 of 300 media read: 300 new, 0 already in the library." in body
    assert 'value="100"' in body and "data-polling" not in body
    assert "Import from Kollus" in body  # a finished run: the next one starts afresh


@pytest.mark.django_db
def test_a_running_import_is_not_started_twice(kollus, client, editor):
    client.post(reverse("kollus_media:import"))
    KollusImportRun.objects.update(
        status=ImportStatus.RUNNING,
        claim_token="worker",
        claimed_until="2999-01-01T00:00:00Z",
    )
    again = client.post(reverse("kollus_media:import"), follow=True)
    assert "The import is already running." in [str(m) for m in get_messages(again.wsgi_request)]
    assert OrmQ.objects.count() == 1
    assert "Importing…" in again.content.decode()

    # Its worker was killed: the lease expired, the screen says so and offers to resume.
    KollusImportRun.objects.update(claimed_until="2000-01-01T00:00:00Z")
    fragment = client.get(reverse("kollus_media:import_progress")).content.decode()
    assert "Interrupted" in fragment and "Resume import" in fragment


@pytest.mark.django_db
def test_a_queued_run_waits_for_its_worker_until_its_job_looks_lost(kollus, client, editor):
    client.post(reverse("kollus_media:import"))
    fragment = client.get(reverse("kollus_media:import_progress")).content.decode()
    assert "Importing…" in fragment and "Resume import" not in fragment
    # No worker took it for longer than a lease (no cluster running): offer to queue it again.
    KollusImportRun.objects.update(updated_at="2000-01-01T00:00:00Z")
    fragment = client.get(reverse("kollus_media:import_progress")).content.decode()
    assert "Resume import" in fragment and 'data-polling="true"' in fragment
