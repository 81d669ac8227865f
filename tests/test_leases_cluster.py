"""A real django-q2 worker SIGKILLed in the middle of a callback: the delivery is not lost.

The callback arrives over HTTP at the endpoint, which queues its job; a forked worker claims
the delivery and asks the sandbox's Kollus API for the media, which answers slowly (a latency
fault), so the test knows the worker is inside the task when it kills it. django-q2 hands the
job out again after ``retry`` seconds; the new worker finds the lease expired, takes it over
and processes the delivery. Before leases, the delivery stayed ``processing`` for good.
"""

from __future__ import annotations

import os
import signal
import time

import pytest
from django.urls import reverse
from django_q.models import Schedule

from tests.cluster_support import jobs_started
from wagtail_kollus.models import CallbackDelivery, DeliveryStatus, KollusMedia, MediaState
from wagtail_kollus.testing import running_cluster, wait_for

pytestmark = [pytest.mark.cluster, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def kollus(sandbox, settings):
    # Set before the cluster starts: its forked workers inherit these settings.
    settings.WAGTAIL_KOLLUS = sandbox.kollus_settings(
        KOLLUS_RATE_LIMIT_PER_SECOND=1000,
        KOLLUS_RATE_LIMIT_PER_MINUTE=60000,
        CALLBACK_CLAIM_SECONDS=1.5,
    )
    return sandbox


@pytest.fixture
def worker_pids(tmp_path):
    """The pid of every worker process that starts a task (written by the worker itself)."""
    with jobs_started(tmp_path / "worker-pids") as started:
        yield lambda: [pid for pid, _job in started()]


def ready_media_key(sandbox) -> str:
    with sandbox.state.lock:
        for ufk, row in sandbox.state.media.items():
            if row["stage"] == "completed" and row["channels"]:
                return ufk
    raise AssertionError("the sandbox seed has no ready media")


def test_a_worker_killed_while_processing_a_callback_does_not_lose_it(
    kollus, client, worker_pids
):
    ufk = ready_media_key(kollus)
    # The first read of the media takes 6 s: the worker is inside the task all that time.
    kollus.faults.set("kollus.media_detail", latency=6, times=1)
    url = reverse(
        "wagtail_kollus:callback-upload", kwargs={"token": kollus.kollus_settings()["CALLBACK_TOKEN"]}
    )
    form = {
        "content_provider_key": kollus.kollus_settings()["KOLLUS_SERVICE_ACCOUNT_KEY"],
        "upload_file_key": ufk,
        "filename": "console upload",
    }
    with running_cluster(RETRY=2):
        assert client.post(url, form).status_code == 200
        wait_for(
            lambda: kollus.request_count("kollus.media_detail") >= 1 and worker_pids(),
            message="no worker started on the callback",
        )
        delivery = CallbackDelivery.objects.get()
        assert delivery.status == DeliveryStatus.PROCESSING
        [pid] = worker_pids()
        os.kill(pid, signal.SIGKILL)

        delivery = wait_for(
            lambda: CallbackDelivery.objects.filter(status=DeliveryStatus.PROCESSED).first(),
            timeout=30,
            message=f"the delivery was lost: {CallbackDelivery.objects.values().first()}",
        )
    assert pid not in worker_pids()[1:], "the job ran again in another worker"
    assert delivery.attempts == 1  # the killed attempt, counted when its lease was taken over
    assert KollusMedia.objects.get(upload_file_key=ufk).state == MediaState.READY
    assert kollus.request_count("kollus.media_detail") >= 2
    assert not Schedule.objects.exists()


def test_the_installed_sweep_schedule_runs_due_retries_of_both_kinds(kollus, settings, client):
    from django.core.management import call_command
    from django_q.brokers import get_broker
    from django_q.scheduler import scheduler

    from tests.factories import make_course, publish
    from tests.sync_support import SYNC_TEST_SETTINGS, link_of

    settings.WAGTAIL_KOLLUS = {
        **settings.WAGTAIL_KOLLUS,
        **SYNC_TEST_SETTINGS,
        "SYNC_INLINE_RETRY_MAX": 0,  # every retry goes to the sweep
        "CALLBACK_RETRY_DELAYS": [0.2],
        "MAX_RETRIES": 0,
    }
    kollus.faults.set("kollus.media_detail", status=503, times=1)
    kollus.faults.set("contents.create", status=503, times=1)
    call_command("kollus_sweep", "--install-schedule")
    ufk = ready_media_key(kollus)
    course = make_course()
    url = reverse(
        "wagtail_kollus:callback-upload", kwargs={"token": kollus.kollus_settings()["CALLBACK_TOKEN"]}
    )
    form = {
        "content_provider_key": kollus.kollus_settings()["KOLLUS_SERVICE_ACCOUNT_KEY"],
        "upload_file_key": ufk,
    }
    with running_cluster():
        publish(course)
        assert client.post(url, form).status_code == 200
        # Both failed once and wait for their retry; nothing else will queue them.
        wait_for(
            lambda: CallbackDelivery.objects.filter(attempts=1, status="queued").exists()
            and link_of(course).attempts == 1,
            message="the first attempts did not fail",
        )
        time.sleep(0.5)  # both retries are due (0.2 s)
        # What the cluster's scheduler does every 30 s, done now: the sweep's task is queued,
        # a worker runs it, and it queues both retries.
        scheduler(broker=get_broker())
        wait_for(
            lambda: CallbackDelivery.objects.filter(status="processed").exists()
            and link_of(course).state == "synced",
            message="the sweep did not bring the retries back",
        )
    assert KollusMedia.objects.get(upload_file_key=ufk).state == MediaState.READY
    assert kollus.request_count("contents.create") == 2
    assert list(Schedule.objects.values_list("name", flat=True)) == ["wagtail_kollus: sweep"]
