"""Privacy of learner progress (issue 17, item 8): the retention purge and its schedule,
deleting a user, and one learner's data export (command and admin download)."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import CommandError, call_command
from django_q.models import Schedule

from tests.factories import make_page, make_progress, make_video
from wagtail_kollus.learners import privacy
from wagtail_kollus.models import LearnerProgress

pytestmark = pytest.mark.django_db


@pytest.fixture
def learners(django_user_model):
    make_video(1, title="Intro video")
    page = make_page([], title="Lesson one")
    ann = django_user_model.objects.create_user("ann", "ann@example.com", "pw")
    bob = django_user_model.objects.create_user("bob", "bob@example.com", "pw")
    make_progress(ann, page, "mckey0001", percent=100, completed=True)
    make_progress(ann, page, "mckey0002", percent=30, days_ago=400)
    make_progress(bob, page, "mckey0001", percent=60, days_ago=20)
    return {"page": page, "ann": ann, "bob": bob}


def test_without_a_retention_nothing_is_purged(learners, settings):
    assert settings.WAGTAIL_KOLLUS.get("PROGRESS_RETENTION_DAYS") is None
    assert privacy.purge_expired_progress() == 0
    assert LearnerProgress.objects.count() == 3


def test_the_purge_deletes_rows_not_watched_within_the_retention(learners, settings):
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "PROGRESS_RETENTION_DAYS": 30}
    assert privacy.purge_expired_progress() == 1
    left = set(LearnerProgress.objects.values_list("learner__username", "media_content_key"))
    assert left == {("ann", "mckey0001"), ("bob", "mckey0001")}
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "PROGRESS_RETENTION_DAYS": 10}
    assert privacy.purge_expired_progress() == 1
    assert list(LearnerProgress.objects.values_list("learner__username", flat=True)) == ["ann"]


def test_the_purge_works_in_batches(learners, settings, monkeypatch):
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "PROGRESS_RETENTION_DAYS": 1}
    monkeypatch.setattr(privacy, "PURGE_BATCH", 1)
    assert privacy.purge_expired_progress() == 2
    assert LearnerProgress.objects.count() == 1


def test_a_row_watched_again_before_its_batch_is_deleted_is_kept(learners, settings):
    # The cutoff is checked again in the delete itself: a learner coming back at that moment
    # keeps their row.
    old = LearnerProgress.objects.get(media_content_key="mckey0002")
    future = datetime.now(UTC) + timedelta(days=1)
    LearnerProgress.objects.filter(pk=old.pk).update(last_watched_at=future)
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "PROGRESS_RETENTION_DAYS": 30}
    assert privacy.purge_expired_progress() == 0
    assert LearnerProgress.objects.filter(pk=old.pk).exists()


def test_the_purge_command_and_its_daily_schedule(learners, settings):
    out = io.StringIO()
    call_command("kollus_progress_purge", stdout=out)
    assert "nothing purged" in out.getvalue() and LearnerProgress.objects.count() == 3
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "PROGRESS_RETENTION_DAYS": 30}
    out = io.StringIO()
    call_command("kollus_progress_purge", stdout=out)
    assert "Deleted 1 progress row(s)" in out.getvalue()
    for verb in ("Created", "Kept"):
        out = io.StringIO()
        call_command("kollus_progress_purge", "--install-schedule", stdout=out)
        assert out.getvalue().startswith(verb)
    schedule = Schedule.objects.get(name=privacy.SCHEDULE_NAME)
    assert schedule.schedule_type == Schedule.DAILY
    assert schedule.func == privacy.TASK_PATH
    # The schedule's task path is a real function that purges.
    from django.utils.module_loading import import_string

    assert import_string(schedule.func) is privacy.purge_expired_progress


def test_deleting_a_user_deletes_their_progress_and_only_theirs(learners):
    learners["ann"].delete()
    assert list(LearnerProgress.objects.values_list("learner__username", flat=True)) == ["bob"]


def test_the_export_command_writes_one_learners_progress_as_json(learners, tmp_path):
    target = tmp_path / "ann.json"
    call_command("kollus_progress_export", "--user", "ann", "--output", str(target),
                 stderr=io.StringIO())
    data = json.loads(target.read_text())
    assert data["learner"]["username"] == "ann"
    rows = {r["media_content_key"]: r for r in data["progress"]}
    assert set(rows) == {"mckey0001", "mckey0002"}
    assert rows["mckey0001"]["video_title"] == "Intro video"
    assert rows["mckey0001"]["completed_at"] and rows["mckey0002"]["completed_at"] is None
    assert rows["mckey0001"]["watched_intervals"] == [[0, 600]]
    assert rows["mckey0001"]["page_title"] == "Lesson one"
    # bob's rows are not in ann's export.
    assert all(r["percent"] != 60 for r in data["progress"])


def test_the_export_command_finds_a_user_by_id_and_writes_csv(learners):
    out = io.StringIO()
    call_command("kollus_progress_export", "--user", str(learners["bob"].pk), "--format", "csv",
                 stdout=out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert len(rows) == 1 and rows[0]["percent"] == "60"
    assert json.loads(rows[0]["watched_intervals"]) == [[0, 360]]


def test_the_export_command_refuses_an_unknown_user(learners):
    with pytest.raises(CommandError, match="No user with the username or id 'nobody'"):
        call_command("kollus_progress_export", "--user", "nobody")
