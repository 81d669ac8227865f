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
from pathlib import Path

import pytest
from django.urls import reverse
from django_q.models import Schedule
from django_q.signals import pre_execute

from wagtail_kollus.models import CallbackDelivery, DeliveryStatus, KollusMedia, MediaState
from wagtail_kollus.sync.testing import running_cluster, wait_for

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
    log = tmp_path / "worker-pids"

    def remember(sender, func, task, **kwargs):
        with open(log, "a") as file:
            file.write(f"{os.getpid()}\n")

    # Connected before the cluster forks, so the workers inherit the receiver.
    pre_execute.connect(remember, weak=False)
    yield log
    pre_execute.disconnect(remember)


def pids(log: Path) -> list[int]:
    return [int(line) for line in log.read_text().split()] if log.exists() else []


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
            lambda: kollus.request_count("kollus.media_detail") >= 1 and pids(worker_pids),
            message="no worker started on the callback",
        )
        delivery = CallbackDelivery.objects.get()
        assert delivery.status == DeliveryStatus.PROCESSING
        [pid] = pids(worker_pids)
        os.kill(pid, signal.SIGKILL)

        delivery = wait_for(
            lambda: CallbackDelivery.objects.filter(status=DeliveryStatus.PROCESSED).first(),
            timeout=30,
            message=f"the delivery was lost: {CallbackDelivery.objects.values().first()}",
        )
    assert pid not in pids(worker_pids)[1:], "the job ran again in another worker"
    assert delivery.attempts == 1  # the killed attempt, counted when its lease was taken over
    assert KollusMedia.objects.get(upload_file_key=ufk).state == MediaState.READY
    assert kollus.request_count("kollus.media_detail") >= 2
    assert not Schedule.objects.exists()
