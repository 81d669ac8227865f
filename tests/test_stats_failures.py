"""Why Kollus gave no statistics, as the screens, the schedule and ``kollus_stats`` tell it:
an outage (figures come back by themselves), a refused access token (401: nothing comes back
until an administrator corrects ``KOLLUS_ACCESS_TOKEN``) or another refusal (what Kollus said).
All through the sandbox over HTTP, with a wrong token or injected faults."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from tests.factories import store_snapshot
from tests.stats_support import (
    completed_keys,
    expected_visitors,
    stats_sandbox,  # noqa: F401  (the fixture ``kollus``)
    today,
)
from wagtail_kollus.api.errors import AuthenticationError
from wagtail_kollus.stats import tasks
from wagtail_kollus.stats.periods import DateRange

pytestmark = pytest.mark.django_db

REPORT = "wagtail_kollus_stats:report"
WRONG_TOKEN = "sandbox-access-tokn"
STATS_ENDPOINTS = ("kollus.stats_summary_daily", "kollus.stats_content_rank")


@pytest.fixture
def wrong_token(kollus, settings):
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "KOLLUS_ACCESS_TOKEN": WRONG_TOKEN}
    return kollus


def headline(html: str, term: str) -> str:
    """The text of the report's or panel's ``<dd>`` after the ``<dt>`` named ``term``."""
    match = re.search(rf"<dt>{re.escape(term)}</dt>\s*<dd[^>]*>(.*?)</dd>", html, re.S)
    assert match, f"no headline {term!r}"
    return re.sub(r"<[^>]+>", " ", match.group(1)).split()[0]


def test_a_refused_token_is_told_as_such_on_the_report_and_the_dashboard(
    wrong_token, admin_client
):
    report = admin_client.get(reverse(REPORT), {"range": "30"})
    dashboard = admin_client.get(reverse("wagtailadmin_home"))

    assert report.status_code == 200 and dashboard.status_code == 200
    for html in (report.content.decode(), dashboard.content.decode()):
        assert 'kollus-stats-unanswered" role="status" data-kollus-stats-failure="refused"' in html
        assert "Kollus refused this site's access token" in html
        assert "KOLLUS_ACCESS_TOKEN" in html
        assert "Kollus API: Invalid access token. (HTTP 401)" in html  # as the upload screen says
        # Not an outage, and no promise that waiting brings the figures back.
        assert "Kollus did not answer for" not in html and "nothing is lost" not in html
        assert WRONG_TOKEN not in html
    html = report.content.decode()
    assert headline(html, "Unique visitors") == "—"
    assert headline(html, "Transfer") == "—"
    assert headline(html, "Views") == "—"
    assert "The views of this period are unknown" in html
    panel = dashboard.content.decode()
    assert headline(panel, "Unique visitors, last 30 days") == "—"
    assert headline(panel, "Transfer, last 30 days") == "—"
    assert "No views in this period." not in panel


def test_the_refusal_is_still_told_while_remote_calls_are_paused(wrong_token, admin_client):
    admin_client.get(reverse(REPORT), {"range": "7"})
    calls = wrong_token.request_count("kollus.*")

    html = admin_client.get(reverse(REPORT), {"range": "7"}).content.decode()

    assert wrong_token.request_count("kollus.*") == calls  # paused: Kollus is not asked again
    assert 'data-kollus-stats-failure="refused"' in html and "KOLLUS_ACCESS_TOKEN" in html
    assert "Kollus did not answer for" not in html


def test_an_outage_keeps_its_message_but_unknown_headlines_are_not_zero(kollus, admin_client):
    for endpoint in STATS_ENDPOINTS:
        kollus.faults.set(endpoint, status=503)

    html = admin_client.get(reverse(REPORT), {"range": "7"}).content.decode()

    assert 'data-kollus-stats-failure="transient"' in html
    assert "Kollus did not answer for" in html and "nothing is lost" in html
    assert "KOLLUS_ACCESS_TOKEN" not in html
    assert headline(html, "Unique visitors") == "—" and headline(html, "Views") == "—"
    assert headline(html, "Transfer") == "—"  # not "0 B"


def test_another_refusal_says_what_kollus_said(kollus, admin_client):
    for endpoint in STATS_ENDPOINTS:
        kollus.faults.set(endpoint, status=400)

    html = admin_client.get(reverse(REPORT), {"range": "7"}).content.decode()

    assert 'data-kollus-stats-failure="other"' in html
    assert "Kollus did not give the statistics for:" in html
    assert "Kollus said: Kollus API: Sandbox fault: HTTP 400." in html
    assert "nothing is lost" not in html and "KOLLUS_ACCESS_TOKEN" not in html


def test_last_good_figures_with_a_refused_token_say_why_they_are_stale(kollus, admin_client):
    admin_client.get(reverse(REPORT), {"range": "7"})
    period = DateRange.last_days(7)
    for kind in ("summary", "rank"):  # only the 5-minute copies expire
        cache.delete(f"wagtail_kollus:stats:v1:{kind}:{period.start:%Y%m%d}:{period.end:%Y%m%d}")
    for endpoint in STATS_ENDPOINTS:
        kollus.faults.set(endpoint, status=401)

    html = admin_client.get(reverse(REPORT), {"range": "7"}).content.decode()

    assert 'kollus-stats-stale" role="status" data-kollus-stats-failure="refused"' in html
    assert "stay stale until an administrator corrects the KOLLUS_ACCESS_TOKEN setting" in html
    assert "Kollus is not answering right now" not in html
    assert headline(html, "Unique visitors") != "—"


def test_recorded_days_survive_a_restart_with_a_refused_token(wrong_token, admin_client):
    """The figures recorded in the database do not depend on the (per-process) cache."""
    now = today()
    days = [now - timedelta(days=offset) for offset in range(3, 7)]
    key = completed_keys(wrong_token)[0]
    for day in days:
        store_snapshot(day, visitors=expected_visitors(day), views={key: 2})
    cache.clear()  # what a runserver restart does to LocMemCache

    response = admin_client.get(reverse(REPORT), {"range": "7"})

    html = response.content.decode()
    total = sum(expected_visitors(day) for day in days)
    assert response.context["account"].total_visitors == total
    assert headline(html, "Unique visitors") == f"{total:,}"
    assert headline(html, "Views") == "8"
    # The unrecorded days are told as refused, the recorded ones are simply shown.
    assert 'data-kollus-stats-failure="refused"' in html


def test_the_video_view_shows_unknown_figures_and_the_refusal(wrong_token, admin_client):
    key = completed_keys(wrong_token)[0]

    html = admin_client.get(
        reverse("wagtail_kollus_stats:video", args=[key]), {"range": "7"}
    ).content.decode()

    assert re.search(r"data-kollus-video-views><span[^>]*>—</span>", html)
    assert headline(html, "Play time (hours)") == "—"
    assert 'data-kollus-stats-failure="refused"' in html and "KOLLUS_ACCESS_TOKEN" in html
    assert "nothing is lost" not in html and WRONG_TOKEN not in html
    # Recording would ask Kollus with the same token: no button that can only fail.
    assert "data-kollus-stats-record-refused" in html and "data-kollus-stats-record>" not in html


def test_kollus_stats_exits_with_the_refusal_not_an_outage(wrong_token):
    with pytest.raises(CommandError) as refused:
        call_command("kollus_stats", "--record-recent")

    message = str(refused.value)
    assert "Kollus refused the access token" in message
    assert "KOLLUS_ACCESS_TOKEN" in message and "(HTTP 401)" in message
    assert "did not answer" not in message and WRONG_TOKEN not in message


def test_a_backfill_refused_says_so_and_how_to_go_on(wrong_token):
    day = today() - timedelta(days=10)
    with pytest.raises(CommandError) as refused:
        call_command("kollus_stats", "--backfill", str(day), str(day), verbosity=0)

    message = str(refused.value)
    assert "Kollus refused the access token" in message and "--resume" in message


def test_the_daily_task_logs_a_refused_token_as_an_error_and_fails(wrong_token, caplog):
    with (
        caplog.at_level(logging.WARNING, logger="wagtail_kollus.stats"),
        pytest.raises(AuthenticationError),
    ):
        tasks.record_daily_snapshot()

    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert errors, caplog.text
    text = errors[0].getMessage()
    assert "Kollus statistics not recorded" in text and "KOLLUS_ACCESS_TOKEN" in text
    assert WRONG_TOKEN not in caplog.text


def test_the_last_answer_stored_in_the_database_survives_a_restart(kollus, admin_client, settings):
    """Kollus's ranking is copied into the database (a rollup) when it answers: after a
    restart (LocMemCache empty) with Kollus refusing, those are the last good views, not
    "unknown" and not 0."""
    first = admin_client.get(reverse(REPORT), {"range": "7"})
    views = first.context["view"].ranking.total_views
    assert views
    cache.clear()  # what a runserver restart does to LocMemCache
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "KOLLUS_ACCESS_TOKEN": WRONG_TOKEN}

    html = admin_client.get(reverse(REPORT), {"range": "7"}).content.decode()

    assert headline(html, "Views") == f"{views:,}"
    assert 'kollus-stats-stale" role="status" data-kollus-stats-failure="refused"' in html


@pytest.mark.cluster
@pytest.mark.django_db(transaction=True)
def test_the_scheduled_task_fails_as_an_authentication_failure_in_the_cluster(wrong_token):
    """Through a real django-q2 cluster and the installed schedule: the daily run is kept as
    failed with the api layer's AuthenticationError and Kollus's words (no token), and is
    acknowledged: not handed out again every ``retry`` seconds with the same refused token."""
    from django.utils import timezone
    from django_q.models import OrmQ, Schedule, Task

    from wagtail_kollus.testing import running_cluster, wait_for

    schedule, _created = tasks.ensure_schedule()
    Schedule.objects.filter(pk=schedule.pk).update(next_run=timezone.now())

    with running_cluster():
        failed = wait_for(
            lambda: Task.objects.filter(func=tasks.TASK_PATH, success=False).first(),
            timeout=60,
            message="the worker did not run the daily task",
        )
        wait_for(lambda: not OrmQ.objects.exists(), timeout=10, message="not acknowledged")

    assert "AuthenticationError" in failed.result
    assert "Kollus API: Invalid access token. (HTTP 401)" in failed.result
    assert WRONG_TOKEN not in failed.result
    assert Task.objects.get(pk=failed.pk).attempt_count == 1


def test_the_record_task_stops_on_a_refused_token_instead_of_being_handed_out_again(
    wrong_token, caplog
):
    from wagtail_kollus.stats import recording

    day = today() - timedelta(days=5)
    with caplog.at_level(logging.ERROR, logger="wagtail_kollus.stats"):
        result = recording.record_unrecorded_days(day.isoformat(), day.isoformat())

    assert result.startswith("recorded 0 day(s), then stopped: Kollus refused the access token")
    assert "KOLLUS_ACCESS_TOKEN" in caplog.text and WRONG_TOKEN not in caplog.text
