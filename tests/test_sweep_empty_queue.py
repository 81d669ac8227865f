"""The sweep's shorter wait for a lost job while the broker's queue is empty (ORM broker here;
Redis with real clusters in ``tests/test_sync_redis.py``).

A job waits behind a backlog only while the broker holds one: with the queue empty, a page (or
delivery) nobody claimed for ``EMPTY_QUEUE_LOST_JOB_SECONDS`` is in a running cluster's own
queue or was lost, and queuing it again costs at most a job that finds nothing to do.
"""

from __future__ import annotations

import logging
import socket
from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.models import OrmQ
from django_q.tasks import async_task

from wagtail_kollus import leases
from wagtail_kollus.models import CallbackDelivery, PageContentLink
from wagtail_kollus.models.callbacks import delivery_fingerprint
from wagtail_kollus.sweep import sweep
from wagtail_kollus.testing import q_conf

pytestmark = pytest.mark.django_db

SHORT = leases.EMPTY_QUEUE_LOST_JOB_SECONDS


def waiting_page(key: int, waited: float) -> PageContentLink:
    return PageContentLink.objects.create(
        page_key=key,
        page_type="testapp.coursepage",
        state="pending",
        version=2,
        synced_version=1,
        requested_at=timezone.now() - timedelta(seconds=waited),
    )


def waiting_delivery(name: str, waited: float) -> CallbackDelivery:
    payload = {"content_provider_key": "test", "upload_file_key": f"ufk-{name}"}
    row = CallbackDelivery.objects.create(
        kind="upload",
        fingerprint=delivery_fingerprint("upload", payload),
        upload_file_key=payload["upload_file_key"],
        payload=payload,
    )
    CallbackDelivery.objects.filter(pk=row.pk).update(
        last_received_at=timezone.now() - timedelta(seconds=waited)
    )
    return row


def queued_syncs() -> list[int]:
    return [q.task["args"][0] for q in OrmQ.objects.order_by("pk") if "sync_page" in q.task["func"]]


def test_with_the_queue_empty_a_never_claimed_job_is_queued_after_the_short_wait():
    assert SHORT < leases.LOST_JOB_SECONDS
    waiting_page(1, SHORT + 60)
    waiting_page(2, SHORT - 60)  # recent: left to its own job
    waiting_delivery("lost", SHORT + 60)
    assert not OrmQ.objects.exists()
    assert sweep() == "queued 1 page sync(s) and 1 callback delivery(ies)"
    assert queued_syncs() == [1]
    # Once queued, the row waits LOST_JOB_SECONDS for that job (swept_at), queue empty or not.
    OrmQ.objects.all().delete()
    assert sweep() == "queued 0 page sync(s) and 0 callback delivery(ies)"


def test_a_job_waiting_in_the_orm_queue_keeps_the_long_wait_until_a_cluster_takes_it():
    waiting_page(1, SHORT + 60)
    # Another job waits to be handed out: the page's job may be behind it.
    async_task("math.floor", 1.5)
    assert get_broker().queue_size() == 1
    assert sweep() == "queued 0 page sync(s) and 0 callback delivery(ies)"
    assert queued_syncs() == []
    # A cluster takes it (the ORM broker locks the row for ``retry`` seconds): nothing waits
    # to be handed out any more, though the row is still there.
    assert len(get_broker().dequeue()) == 1
    assert OrmQ.objects.count() == 1 and get_broker().queue_size() == 0
    assert sweep() == "queued 1 page sync(s) and 0 callback delivery(ies)"
    assert queued_syncs() == [1]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens once the probe is closed


@pytest.mark.parametrize("broker", ["unreachable redis", "uncounted"])
def test_a_queue_the_sweep_cannot_count_keeps_the_long_wait(broker, caplog):
    if broker == "unreachable redis":
        pytest.importorskip("redis", reason="the 'redis' extra is not installed")
        conf = {"ORM": None, "REDIS": {"host": "127.0.0.1", "port": closed_port(), "db": 0}}
    else:  # django-q2's base class, as a custom broker_class may: queue_size() is None
        conf = {"BROKER_CLASS": "django_q.brokers.Broker"}
    waiting_page(1, SHORT + 60)
    waiting_delivery("waiting", SHORT + 60)
    with caplog.at_level(logging.WARNING, logger="wagtail_kollus.queue"), q_conf(**conf):
        assert sweep() == "queued 0 page sync(s) and 0 callback delivery(ies)"
    if broker == "unreachable redis":
        assert "Could not read the task queue's length (ConnectionError)" in caplog.text
        assert str(conf["REDIS"]["port"]) not in caplog.text
